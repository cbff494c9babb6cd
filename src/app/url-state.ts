// The shareable view state in the URL hash (the query string keeps ?token= for the websocket):
//   #scenario=hardlink-alias-race&tab=locks&t0=1200000&t1=3400000&sel=5123&q=ino:12&theme=dark
// A pasted link restarts the scenario (the simulator is deterministic from its seed, so rows and
// times recur), shows the same range, tab, query and theme, and selects the same event row as
// soon as it arrives. While following live no range is written (the link then means "live").
// With a server recording open, `rec=<name>` replaces `scenario`: the link reopens that recording
// (rows are the recording's, so `sel` and the range mean the same events). A dropped file cannot
// be reopened from a link; its URL keeps only the view state.
// An A/B comparison of two server recordings is `cmp=<A>,<B>` (each name URI-encoded, so a comma
// in a name cannot split it); it replaces everything but the theme. One of local files has no link.
// `window=N` is the live window (events kept in the page, src/app/live-window.ts); it may also be
// given in the query string (`?window=500000`), the hash's value wins. `sel` is the row in the
// stream, evicted rows included, so it names the same event after an eviction.

import { isViewTab, type ViewTab } from '../views/registry.ts';
import type { Theme } from './view-state.ts';
import { DEFAULT_WINDOW_EVENTS, clampWindowEvents } from './live-window.ts';

export interface UrlViewState {
  /** Two server recordings compared side by side (`cmp=<A>,<B>`). */
  compare?: [string, string];
  scenario?: string;
  /** A server recording open in the page (`rec=<name>`): a pasted link reopens it. */
  recording?: string;
  tab?: ViewTab;
  startNs?: number;
  endNs?: number;
  selectedRow?: number;
  query?: string;
  theme?: Theme;
  pins?: string[];
  areaFromNs?: number;
  areaToNs?: number;
  /** Live window in events (written only when not the default). */
  windowEvents?: number;
}

export function encodeViewState(s: UrlViewState): string {
  const p = new URLSearchParams();
  if (s.compare) {
    if (s.theme && s.theme !== 'light') p.set('theme', s.theme);
    const rest = p.toString();
    return `cmp=${s.compare.map(encodeURIComponent).join(',')}${rest ? `&${rest}` : ''}`;
  }
  if (s.recording) p.set('rec', s.recording);
  else if (s.scenario) p.set('scenario', s.scenario);
  if (s.tab) p.set('tab', s.tab);
  if (s.startNs !== undefined && s.endNs !== undefined) {
    p.set('t0', String(Math.round(s.startNs)));
    p.set('t1', String(Math.round(s.endNs)));
  }
  if (s.selectedRow !== undefined && s.selectedRow >= 0) p.set('sel', String(s.selectedRow));
  if (s.query) p.set('q', s.query);
  if (s.theme && s.theme !== 'light') p.set('theme', s.theme);
  if (s.pins && s.pins.length) p.set('pins', s.pins.join(','));
  if (s.areaFromNs !== undefined && s.areaToNs !== undefined && !Number.isNaN(s.areaFromNs)) p.set('area', `${Math.round(s.areaFromNs)}-${Math.round(s.areaToNs)}`);
  if (s.windowEvents !== undefined && s.windowEvents !== DEFAULT_WINDOW_EVENTS) p.set('window', String(s.windowEvents));
  return p.toString();
}

export function decodeViewState(hash: string): UrlViewState {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const out: UrlViewState = {};
  // Split the raw value: URLSearchParams would decode a %2C inside a name into the separator.
  const cmp = /(?:^|&)cmp=([^&]*)/.exec(hash.replace(/^#/, ''))?.[1]?.split(',');
  if (cmp?.length === 2 && cmp[0] && cmp[1]) {
    try {
      out.compare = [decodeURIComponent(cmp[0]), decodeURIComponent(cmp[1])];
    } catch {
      // A malformed %-escape is not a comparison: the rest of the link still applies.
      out.compare = undefined;
    }
  }
  const scenario = p.get('scenario');
  if (scenario) out.scenario = scenario;
  const rec = p.get('rec');
  if (rec) out.recording = rec;
  const tab = p.get('tab');
  if (tab && isViewTab(tab)) out.tab = tab;
  const t0 = Number(p.get('t0'));
  const t1 = Number(p.get('t1'));
  if (p.has('t0') && p.has('t1') && Number.isFinite(t0) && Number.isFinite(t1) && t1 > t0) {
    out.startNs = t0;
    out.endNs = t1;
  }
  const sel = Number(p.get('sel'));
  if (p.has('sel') && Number.isInteger(sel) && sel >= 0) out.selectedRow = sel;
  const q = p.get('q');
  if (q) out.query = q;
  const theme = p.get('theme');
  if (theme === 'dark' || theme === 'light') out.theme = theme;
  const pins = p.get('pins');
  if (pins) out.pins = pins.split(',').filter(Boolean);
  const area = /^(\d+)-(\d+)$/.exec(p.get('area') ?? '');
  if (area && Number(area[2]) > Number(area[1])) {
    out.areaFromNs = Number(area[1]);
    out.areaToNs = Number(area[2]);
  }
  const windowEvents = parseWindow(p.get('window'));
  if (windowEvents !== undefined) out.windowEvents = windowEvents;
  return out;
}

/** `window=N` (a positive integer, clamped to the allowed range); undefined if absent or invalid. */
function parseWindow(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value) || Number(value) <= 0) return undefined;
  return clampWindowEvents(Number(value));
}

/** The live window the page starts with: the hash's `window=`, else the query string's, else undefined. */
export function windowEventsFromUrl(search: string, hash: string): number | undefined {
  return decodeViewState(hash).windowEvents ?? parseWindow(new URLSearchParams(search).get('window'));
}
