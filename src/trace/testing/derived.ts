// Test helper: a store fed with `events` and every index derived from it (spans, aliases, locks,
// mapping cache), as the app keeps them. Test-only.
import { TraceStore } from '../store.ts';
import { SpanIndex } from '../spans.ts';
import type { TraceEvent } from '../schema.ts';
import { AliasIndex } from '../derive/aliases.ts';
import { LockIndex } from '../derive/locks.ts';
import { CacheIndex } from '../derive/cache.ts';

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
