// Layout preferences kept in this browser's localStorage (not in the shared URL: a splitter
// position or a lane's height is the viewer's screen, not the trace's). Every read tolerates a
// missing, blocked or garbled store and falls back to the default.

const PREFIX = 'fusescope.';

export function loadPref<T>(key: string, fallback: T, valid: (v: unknown) => v is T): T {
  try {
    const raw = globalThis.localStorage?.getItem(PREFIX + key);
    if (raw == null) return fallback;
    const v: unknown = JSON.parse(raw);
    return valid(v) ? v : fallback;
  } catch {
    return fallback;
  }
}

/** `value` undefined removes the key (back to the default). */
export function savePref(key: string, value: unknown): void {
  try {
    if (value === undefined) globalThis.localStorage?.removeItem(PREFIX + key);
    else globalThis.localStorage?.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // Storage full or blocked (private mode): the layout just is not remembered.
  }
}
