// One binary websocket message of the live protocol into a client store: what P2's clients (worker
// or in-process) do per frame. Returns how many gap events it carried.
import type { TraceStore } from '../src/trace/store.ts';
import { applyBatch, decodeBatch } from '../src/trace/wire.ts';

export function applyFrame(client: TraceStore, buf: Buffer): number {
  const from = client.length;
  applyBatch(client, decodeBatch(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)));
  let gaps = 0;
  for (let r = from; r < client.length; r++) if (client.kindOf(r) === 'gap') gaps++;
  return gaps;
}
