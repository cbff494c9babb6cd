// Test-only helpers shared by the view model tests: a store fed through every derived index, and
// a recording canvas fake ([FP] test/fixtures/mocks/canvas-context.ts). Imported only by *.test.ts.

import { TraceStore } from '../trace/store.ts';
import { SpanIndex } from '../trace/spans.ts';
import type { TraceEvent } from '../trace/schema.ts';
import { AliasIndex } from '../trace/derive/aliases.ts';
import { LockIndex } from '../trace/derive/locks.ts';
import { CacheIndex } from '../trace/derive/cache.ts';

export function derived(events: TraceEvent[]) {
  const store = new TraceStore();
  store.appendAll(events);
  const spans = new SpanIndex();
  spans.update(store);
  const aliases = new AliasIndex();
  aliases.update(store);
  const locks = new LockIndex();
  locks.update(spans, store);
  const cache = new CacheIndex();
  cache.update(store);
  return { store, spans, aliases, locks, cache };
}

export function recordingContext<T>(): { ctx: T; log: string[][] } {
  const log: string[][] = [];
  const ctx = {
    fillStyle: '' as string | CanvasPattern, strokeStyle: '', globalAlpha: 1, font: '', lineWidth: 1,
    textBaseline: 'alphabetic', textAlign: 'start',
    fillRect(...a: number[]) { log.push(['fillRect', String(this.fillStyle), ...a.map(String)]); },
    strokeRect(...a: number[]) { log.push(['strokeRect', ...a.map(String)]); },
    fillText(text: string, ...a: number[]) { log.push(['fillText', text, ...a.map(String)]); },
    save() {}, restore() {}, beginPath() {}, rect() {}, clip() {}, closePath() {}, fill() {}, arc() {},
    moveTo() {}, lineTo() {}, stroke() { log.push(['stroke']); },
  };
  return { ctx: ctx as unknown as T, log };
}
