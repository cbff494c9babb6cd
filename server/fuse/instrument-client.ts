// The client side of the instrumentation protocol (docs/instrumentation.md) as `fusescope mount`
// uses it: one connection, the hello, then one event per line in the NDJSON event encoding
// (eventLine), so every line is the schema the instrumentation reader validates. Writes never block
// the request loop: past WRITE_BACKLOG_BYTES queued in the socket, events are dropped and counted
// (a stalled viewer must not stall the file system).

import { createConnection, type Socket } from 'node:net';
import type { InstrumentTarget } from '../sources/instrument.ts';
import { eventLine } from '../../src/trace/import/ndjson.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';

const WRITE_BACKLOG_BYTES = 8 << 20;

export class InstrumentClient {
  sentEvents = 0;
  droppedEvents = 0;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('error', () => { this.closed = true; });
    socket.on('close', () => { this.closed = true; });
  }

  /** Connects and sends the hello; rejects when nobody listens at `target`. */
  static connect(target: InstrumentTarget, server: string, pid: number): Promise<InstrumentClient> {
    return new Promise((ok, fail) => {
      const socket = 'port' in target ? createConnection(target.port, '127.0.0.1') : createConnection(target.path);
      socket.once('error', (err) => fail(new Error(`--instrument: cannot connect to ${'port' in target ? `127.0.0.1:${target.port}` : target.path}: ${err.message}`)));
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        // Events are stamped with process.hrtime (CLOCK_MONOTONIC): said, so the receiver places them exactly.
        socket.write(`${JSON.stringify({ fusescope: 'instrument', version: 1, server, pid, clock: 'monotonic' })}\n`);
        ok(new InstrumentClient(socket));
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
    this.sentEvents++;
  }

  /** Ends the connection after what is queued has been written (at most `waitMs`). */
  close(waitMs = 2000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((ok) => {
      const timer = setTimeout(() => { this.socket.destroy(); ok(); }, waitMs);
      this.socket.once('close', () => { clearTimeout(timer); ok(); });
      this.socket.end();
    });
  }
}
