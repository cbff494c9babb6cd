// The socket worker tells the page why the server cut it off (the close code and reason), so the
// page's status says it instead of a bare reconnect.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runWsWorker, type FromWsWorker, type ToWsWorker } from './ws-worker.ts';

class FakeSocket {
  static last: FakeSocket | null = null;
  static readonly OPEN = 1;
  binaryType = 'blob';
  readyState = 1;
  onopen: (() => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) { FakeSocket.last = this; }
  send(): void {}
  close(): void {}
}

function worker(): { posted: FromWsWorker[]; send: (m: ToWsWorker) => void } {
  const posted: FromWsWorker[] = [];
  const scope = { postMessage: (m: FromWsWorker) => { posted.push(m); }, onmessage: null as ((ev: MessageEvent<ToWsWorker>) => void) | null };
  runWsWorker(scope);
  return { posted, send: (m) => scope.onmessage!({ data: m } as MessageEvent<ToWsWorker>) };
}

afterEach(() => { vi.unstubAllGlobals(); });

describe('ws worker close', () => {
  it('passes on the reason of a server cut-off (1008, 4008); a plain close has none', () => {
    vi.stubGlobal('WebSocket', FakeSocket);
    const w = worker();
    w.send({ type: 'connect', id: 1, url: 'ws://x/ws' });
    FakeSocket.last!.onclose!({ code: 1008, reason: 'flooding: over 50 control messages/s, 1001 dropped' });
    w.send({ type: 'connect', id: 2, url: 'ws://x/ws' });
    FakeSocket.last!.onclose!({ code: 4008, reason: 'not reading' });
    w.send({ type: 'connect', id: 3, url: 'ws://x/ws' });
    FakeSocket.last!.onclose!({ code: 1006, reason: '' });
    expect(w.posted).toEqual([
      { type: 'close', id: 1, reason: 'the server closed the connection (1008: flooding: over 50 control messages/s, 1001 dropped)' },
      { type: 'close', id: 2, reason: 'the server closed the connection (4008: not reading)' },
      { type: 'close', id: 3 },
    ]);
  });
});
