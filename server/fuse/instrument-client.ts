// The client side of the instrumentation protocol (docs/instrumentation.md) as `fusescope mount`
// uses it: one connection, the hello, then one event per line in the NDJSON event encoding
// (eventLine), so every line is the schema the instrumentation reader validates. Writes never block
// the request loop: past WRITE_BACKLOG_BYTES queued in the socket, events are dropped and counted
// (a stalled viewer must not stall the file system). On TCP the hello carries the listener's token
// (target.token: `mount --instrument-token`, or FUSESCOPE_INSTRUMENT_TOKEN); an empty line every
// KEEPALIVE_MS of silence keeps the connection under the listener's idle timeout (60 s).

import { createConnection, type Socket } from 'node:net';
import type { InstrumentTarget } from '../sources/instrument.ts';
import { eventLine } from '../../src/trace/import/ndjson.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';

const WRITE_BACKLOG_BYTES = 8 << 20;
/** Well under the listener's 60 s idle timeout (DEFAULT_IDLE_TIMEOUT_MS). */
const KEEPALIVE_MS = 20_000;

export class InstrumentClient {
  sentEvents = 0;
  droppedEvents = 0;
  private closed = false;
  private wroteSinceTick = false;
  private readonly keepalive: ReturnType<typeof setInterval>;

  private constructor(private readonly socket: Socket, keepaliveMs: number) {
    socket.on('error', () => { this.closed = true; });
    socket.on('close', () => { this.closed = true; clearInterval(this.keepalive); });
    this.keepalive = setInterval(() => {
      if (!this.wroteSinceTick && !this.closed) socket.write('\n');
      this.wroteSinceTick = false;
    }, keepaliveMs);
    this.keepalive.unref();
  }

  /** Connects and sends the hello; rejects when nobody listens at `target`. */
  static connect(target: InstrumentTarget, server: string, pid: number, keepaliveMs = KEEPALIVE_MS): Promise<InstrumentClient> {
    return new Promise((ok, fail) => {
      const socket = 'port' in target ? createConnection(target.port, '127.0.0.1') : createConnection(target.path);
      socket.once('error', (err) => fail(new Error(`--instrument: cannot connect to ${'port' in target ? `127.0.0.1:${target.port}` : target.path}: ${err.message}`)));
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        // Events are stamped with process.hrtime (CLOCK_MONOTONIC): said, so the receiver places them exactly.
        const token = 'port' in target && target.token !== undefined ? { token: target.token } : {};
        socket.write(`${JSON.stringify({ fusescope: 'instrument', version: 1, server, pid, clock: 'monotonic', ...token })}\n`);
        ok(new InstrumentClient(socket, keepaliveMs));
      });
    });
  }

  send(ev: TraceEvent): void {
    if (this.closed) return;
    if (this.socket.writableLength > WRITE_BACKLOG_BYTES) {
      this.droppedEvents++;
      return;
    }
    this.socket.write(`${eventLine(ev)}\n`);
    this.wroteSinceTick = true;
    this.sentEvents++;
  }

  /** Ends the connection after what is queued has been written (at most `waitMs`). */
  close(waitMs = 2000): Promise<void> {
    clearInterval(this.keepalive);
    if (this.closed) return Promise.resolve();
    return new Promise((ok) => {
      const timer = setTimeout(() => { this.socket.destroy(); ok(); }, waitMs);
      this.socket.once('close', () => { clearTimeout(timer); ok(); });
      this.socket.end();
    });
  }
}
