// Every keyboard shortcut of the page, in one table: the key handlers (the page's, the timeline's
// pan/zoom in time-zoom.ts, the search results list) find their action here, and the shortcuts
// sheet (`?`) lists this table, so the sheet cannot drift from what the keys do. The mouse
// gestures are listed beside it for the sheet (the canvas handlers own them).

export type ShortcutScope = 'page' | 'timeline' | 'search';

export type ShortcutAction =
  | 'search' | 'focus-selection' | 'clear-selection' | 'pause' | 'help'
  | 'zoom-in' | 'zoom-out' | 'pan-earlier' | 'pan-later'
  | 'result-next' | 'result-previous' | 'result-choose' | 'result-close';

export interface Shortcut {
  action: ShortcutAction;
  scope: ShortcutScope;
  /** KeyboardEvent.key values; letters in lower case (a letter matches with or without shift). */
  keys: readonly string[];
  /** The keys as the sheet prints them. */
  shown: string;
  what: string;
}

export const SCOPE_TITLES: Record<ShortcutScope, string> = {
  page: 'Anywhere on the page (not while typing in a field)',
  timeline: 'Timeline (the pointer, else the selection, anchors a zoom)',
  search: 'Search results list',
};

export const SHORTCUTS: readonly Shortcut[] = [
  { action: 'search', scope: 'page', keys: ['/'], shown: '/', what: 'focus the search field' },
  { action: 'help', scope: 'page', keys: ['?'], shown: '?', what: 'show or hide this list of shortcuts' },
  { action: 'pause', scope: 'page', keys: [' '], shown: 'space', what: 'pause or resume the live stream (a file: its replay)' },
  { action: 'focus-selection', scope: 'page', keys: ['f'], shown: 'f', what: 'zoom to the selection and scroll to its lane' },
  { action: 'clear-selection', scope: 'page', keys: ['Escape'], shown: 'Esc', what: 'clear the selection (or close this list)' },
  { action: 'zoom-in', scope: 'timeline', keys: ['w'], shown: 'W', what: 'zoom in' },
  { action: 'zoom-out', scope: 'timeline', keys: ['s'], shown: 'S', what: 'zoom out' },
  { action: 'pan-earlier', scope: 'timeline', keys: ['a'], shown: 'A', what: 'pan to earlier times' },
  { action: 'pan-later', scope: 'timeline', keys: ['d'], shown: 'D', what: 'pan to later times' },
  { action: 'result-next', scope: 'search', keys: ['ArrowDown'], shown: '↓', what: 'next result' },
  { action: 'result-previous', scope: 'search', keys: ['ArrowUp'], shown: '↑', what: 'previous result' },
  { action: 'result-choose', scope: 'search', keys: ['Enter', 'f'], shown: 'Enter · f', what: 'go to the result: select it, zoom to it, scroll to its lane (f: once Tab has moved the focus to the list)' },
  { action: 'result-close', scope: 'search', keys: ['Escape'], shown: 'Esc', what: 'close the results' },
];

export const GESTURES: readonly { shown: string; what: string }[] = [
  { shown: 'wheel', what: 'zoom the time axis at the pointer' },
  { shown: 'drag', what: 'pan the time axis' },
  { shown: 'shift-drag', what: 'select an area: the Area tab aggregates it' },
  { shown: 'click a span', what: 'inspect it (every field of its events, links to its relatives)' },
  { shown: 'click a lane label', what: 'pin the lane to the top (again: unpin)' },
];

/** The action of a key in a scope, or null. `key` is KeyboardEvent.key (letters any case). */
export function shortcutAction(scope: ShortcutScope, key: string): ShortcutAction | null {
  const k = key.length === 1 ? key.toLowerCase() : key;
  for (const s of SHORTCUTS) if (s.scope === scope && s.keys.includes(k)) return s.action;
  return null;
}
