import { useSyncExternalStore } from 'react';

interface Subscribable {
  subscribe(listener: () => void): () => void;
}

/**
 * Subscribes a component to one value of an external store. `select` must return a primitive
 * (or a memoized value): a fresh object per call would re-render forever.
 */
export function useStoreValue<S extends Subscribable, T>(store: S, select: (store: S) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store));
}
