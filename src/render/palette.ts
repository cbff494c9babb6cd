// The one palette of fusescope: every view and the legend colour through it, so "mapped" is the
// same blue everywhere. Mapping types use the Okabe-Ito colour-blind-safe set (hole and unknown
// are greys: absence of data, not a category); request classes and locks live in their own
// sub-rows and use Paul Tol's muted/bright sets so they never sit next to a mapping colour.

import { MapType } from '../trace/fuse-proto.ts';
import { FuseStyle, IOMAP_STYLE_ERROR, IOMAP_STYLE_UNKNOWN, LockStyle, SpanKind } from '../trace/spans.ts';

/**
 * A texture drawn over a mapping type's colour, so the types stay distinguishable without
 * colour (colour-blind readers, greyscale prints). Mapped, the common case, stays solid.
 */
export type Mark = 'dots' | 'hstripes' | 'diagonal' | 'vstripes' | 'checker' | 'grid' | 'cross';

interface PaletteEntry {
  key: string;
  label: string;
  colour: string;
  group: 'mapping' | 'app' | 'fuse' | 'lock';
  /** Drawn with diagonal stripes (waiting, not doing). */
  hatched?: boolean;
  mark?: Mark;
}

export const PALETTE: readonly PaletteEntry[] = Object.freeze(([
  // mapping type of an iomap step (fuse_iomap_io.type)
  { key: 'map.hole', label: 'hole', colour: '#c8c8c8', group: 'mapping', mark: 'dots' },
  { key: 'map.delalloc', label: 'delalloc', colour: '#E69F00', group: 'mapping', mark: 'hstripes' },
  { key: 'map.mapped', label: 'mapped', colour: '#0072B2', group: 'mapping' },
  { key: 'map.unwritten', label: 'unwritten', colour: '#56B4E9', group: 'mapping', mark: 'diagonal' },
  { key: 'map.inline', label: 'inline', colour: '#CC79A7', group: 'mapping', mark: 'vstripes' },
  { key: 'map.retry', label: 'retry (RETRY_CACHE)', colour: '#F0E442', group: 'mapping', mark: 'checker' },
  { key: 'map.overwrite', label: 'pure overwrite', colour: '#009E73', group: 'mapping', mark: 'grid' },
  { key: 'map.unknown', label: 'unknown / pending', colour: '#6b6b6b', group: 'mapping' },
  { key: 'map.error', label: 'error', colour: '#D55E00', group: 'mapping', mark: 'cross' },
  // syscalls
  { key: 'app.op', label: 'app syscall', colour: '#44546a', group: 'app' },
  // fuse request classes (send→reply on the caller, recv→reply on the server thread)
  { key: 'fuse.iomap_begin', label: 'IOMAP_BEGIN', colour: '#332288', group: 'fuse' },
  { key: 'fuse.iomap_end', label: 'IOMAP_END', colour: '#44AA99', group: 'fuse' },
  { key: 'fuse.iomap_ioend', label: 'IOMAP_IOEND', colour: '#882255', group: 'fuse' },
  { key: 'fuse.lookup', label: 'LOOKUP', colour: '#999933', group: 'fuse' },
  { key: 'fuse.other', label: 'other request', colour: '#9a8fb0', group: 'fuse' },
  // locks (i_rwsem, invalidate_lock)
  { key: 'lock.read', label: 'lock held R', colour: '#228833', group: 'lock' },
  { key: 'lock.write', label: 'lock held W', colour: '#EE6677', group: 'lock' },
  { key: 'lock.wait', label: 'lock wait', colour: '#555555', group: 'lock', hatched: true },
] satisfies PaletteEntry[]).map((e) => Object.freeze(e)));

export const PALETTE_IDX: Readonly<Record<string, number>> = Object.fromEntries(PALETTE.map((p, i) => [p.key, i]));

function idx(key: string): number {
  const i = PALETTE_IDX[key];
  if (i === undefined) throw new Error(`palette: no entry ${key}`);
  return i;
}

const MAP_TYPE_KEY = new Map<number, string>([
  [MapType.HOLE, 'map.hole'], [MapType.DELALLOC, 'map.delalloc'], [MapType.MAPPED, 'map.mapped'],
  [MapType.UNWRITTEN, 'map.unwritten'], [MapType.INLINE, 'map.inline'], [MapType.RETRY_CACHE, 'map.retry'],
  [MapType.PURE_OVERWRITE, 'map.overwrite'], [IOMAP_STYLE_UNKNOWN, 'map.unknown'], [IOMAP_STYLE_ERROR, 'map.error'],
]);
const FUSE_KEY = new Map<number, string>([
  [FuseStyle.iomap_begin, 'fuse.iomap_begin'], [FuseStyle.iomap_end, 'fuse.iomap_end'],
  [FuseStyle.iomap_ioend, 'fuse.iomap_ioend'], [FuseStyle.lookup, 'fuse.lookup'], [FuseStyle.other, 'fuse.other'],
]);

/** Ink of the marks: dark and translucent, so it reads on every mapping colour. */
const MARK_INK = 'rgba(0, 0, 0, 0.42)';

/** The same marks as CSS backgrounds, for legend swatches (drawn over the colour). */
export function markCss(mark: Mark): { backgroundImage: string; backgroundSize?: string } {
  const ink = MARK_INK;
  switch (mark) {
    case 'dots': return { backgroundImage: `radial-gradient(${ink} 1px, transparent 1.3px)`, backgroundSize: '4px 4px' };
    case 'hstripes': return { backgroundImage: `repeating-linear-gradient(0deg, ${ink} 0 1px, transparent 1px 3px)` };
    case 'vstripes': return { backgroundImage: `repeating-linear-gradient(90deg, ${ink} 0 1px, transparent 1px 3px)` };
    case 'diagonal': return { backgroundImage: `repeating-linear-gradient(135deg, ${ink} 0 1px, transparent 1px 4px)` };
    case 'checker': return { backgroundImage: `repeating-conic-gradient(${ink} 0 25%, transparent 0 50%)`, backgroundSize: '4px 4px' };
    case 'grid': return {
      backgroundImage: `linear-gradient(${ink} 1px, transparent 1px), linear-gradient(90deg, ${ink} 1px, transparent 1px)`,
      backgroundSize: '4px 4px',
    };
    case 'cross': return {
      backgroundImage: `repeating-linear-gradient(45deg, ${ink} 0 1px, transparent 1px 4px), repeating-linear-gradient(135deg, ${ink} 0 1px, transparent 1px 4px)`,
    };
  }
}

/** Palette index of a mapping type value (unlisted types, e.g. NOCACHE, read as unknown). */
export function mapTypePaletteIdx(mapType: number): number {
  return idx(MAP_TYPE_KEY.get(mapType) ?? 'map.unknown');
}

/** Palette index for a span, from its SpanIndex kind and style (string-keyed: see the table below). */
function lookUpSpanPaletteIdx(spanKind: number, style: number): number {
  switch (spanKind) {
    case SpanKind.app_op: return idx('app.op');
    case SpanKind.fuse_req: case SpanKind.fuse_serve: return idx(FUSE_KEY.get(style) ?? 'fuse.other');
    case SpanKind.iomap: return mapTypePaletteIdx(style);
    case SpanKind.lock_wait: return idx('lock.wait');
    case SpanKind.lock_hold: return idx(style === LockStyle.write ? 'lock.write' : 'lock.read');
    default: throw new Error(`palette: unknown span kind ${spanKind}`);
  }
}

const SPAN_KIND_COUNT = Object.keys(SpanKind).length;
/** (kind × 256 + style) → palette index, filled once: the timeline asks per span, every frame. */
const SPAN_PALETTE = new Uint8Array(SPAN_KIND_COUNT * 256);
for (let k = 0; k < SPAN_KIND_COUNT; k++) for (let st = 0; st < 256; st++) SPAN_PALETTE[k * 256 + st] = lookUpSpanPaletteIdx(k, st);

/** Palette index for a span, from its SpanIndex kind and style. */
export function spanPaletteIdx(spanKind: number, style: number): number {
  return spanKind < SPAN_KIND_COUNT && style >= 0 && style < 256 ? SPAN_PALETTE[spanKind * 256 + style]! : lookUpSpanPaletteIdx(spanKind, style);
}

export const LOCK_WAIT_IDX = idx('lock.wait');

export type Theme = 'light' | 'dark';

/** Chrome colours that are not data categories (light theme). */
const chromeLight = {
  background: '#ffffff',
  laneStripe: '#f4f6f8',
  laneLabel: '#1f2933',
  laneLabelMuted: '#6b7785',
  gutter: '#eceff3',
  separator: '#d9dee4',
  gapFill: 'rgba(213, 94, 0, 0.16)',
  gapEdge: '#D55E00',
  hover: '#111111',
  selection: '#000000',
  hatchBackground: '#e6e6e6',
  mergedText: '#ffffff',
  areaFill: 'rgba(0, 114, 178, 0.12)',
  areaEdge: '#0072B2',
  flow: '#111111',
  /** Rows of the hovered lock / inode, in every view. */
  linkedHover: '#fff3c4',
  /** Replay: the part of the timeline after the playhead (not revealed yet). */
  unrevealed: 'rgba(255, 255, 255, 0.82)',
  /** The shown finding: its evidence's outline and marks, and the band of its time range. */
  evidence: '#cc00cc',
  findingBand: 'rgba(204, 0, 204, 0.07)',
  /** Finding markers by severity (canvas; the page's CSS has the same as --sev-*). */
  findingError: '#c0142c',
  findingWarning: '#b86e00',
  findingInfo: '#0a6aa8',
};
type Chrome = Readonly<typeof chromeLight>;
export const CHROME_LIGHT: Chrome = Object.freeze(chromeLight);
/** Dark theme: the data colours stay (they are chosen to read on both), only chrome changes. */
export const CHROME_DARK: Chrome = Object.freeze({
  background: '#1c232c',
  laneStripe: '#232c37',
  laneLabel: '#dfe6ee',
  laneLabelMuted: '#96a3b2',
  gutter: '#26303b',
  separator: '#34404e',
  gapFill: 'rgba(213, 94, 0, 0.25)',
  gapEdge: '#ff8a3d',
  hover: '#ffffff',
  selection: '#ffffff',
  hatchBackground: '#3a4552',
  mergedText: '#ffffff',
  areaFill: 'rgba(86, 180, 233, 0.16)',
  areaEdge: '#56B4E9',
  flow: '#f5f5f5',
  linkedHover: '#4a4222',
  unrevealed: 'rgba(28, 35, 44, 0.82)',
  evidence: '#ff66ff',
  findingBand: 'rgba(255, 102, 255, 0.10)',
  findingError: '#ff6b7f',
  findingWarning: '#f0b44c',
  findingInfo: '#6cc0f5',
});

/**
 * Everything a draw colours with, for one theme. Immutable: a theme change picks the other
 * Palette (paletteFor) and marks the canvases dirty; nothing module-level is rewritten, so two
 * pages (or a test) can draw in different themes at once.
 */
export interface Palette {
  readonly theme: Theme;
  /** The data categories (the same in both themes), indexed by palette index. */
  readonly entries: readonly PaletteEntry[];
  /** entries[i].colour, as a flat array for the per-primitive draw loops. */
  readonly colours: readonly string[];
  readonly chrome: Chrome;
  /** Ink of the mapping-type marks. */
  readonly markInk: string;
}

function makePalette(theme: Theme, chrome: Chrome): Palette {
  return Object.freeze({ theme, entries: PALETTE, colours: Object.freeze(PALETTE.map((p) => p.colour)), chrome, markInk: MARK_INK });
}

export const LIGHT_PALETTE: Palette = makePalette('light', CHROME_LIGHT);
export const DARK_PALETTE: Palette = makePalette('dark', CHROME_DARK);

/** The palette of a theme (one frozen object per theme: callers may memoize on its identity). */
export function paletteFor(theme: Theme): Palette {
  return theme === 'dark' ? DARK_PALETTE : LIGHT_PALETTE;
}
