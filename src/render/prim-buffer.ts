// The one draw-ready primitive buffer of the canvas views: a view model (timeline, locks, alias
// mini-timelines) pushes one bar per span or merged run, draw.ts paints the columns and hit tests
// search the same columns, so what is clicked is what was drawn.
//
//   prim i:  xPx[i] ─────── widthPx[i] ───────▶      (plot CSS px: TimeScale.nsToPx, after clipping)
//            on row[i] / subrow[i], coloured by style[i], from span spanId[i] (-1: a merged run)
//
// Columns, not objects: a 10 M-event trace zoomed out is a few thousand primitives per frame,
// and typed columns keep the model build and the draw loop free of allocation. One fixed shape for
// every view (a view leaves the columns it does not need at 0) keeps push and the draw loops
// monomorphic; the unused columns of 256-primitive buffers cost nothing worth a second class.

import { resized } from '../trace/growable.ts';

/** One primitive read out of a PrimBuffer (PrimBuffer.at). */
interface Prim {
  xPx: number; widthPx: number; row: number; subrow: number; style: number; kind: number; spanId: number; spanCount: number; edge: number;
}

export class PrimBuffer {
  /** Primitives pushed. */
  count = 0;
  /** Left edge and width in plot CSS px. */
  xPx: Float32Array;
  widthPx: Float32Array;
  /** Display row (timeline: lane row; locks and aliases: row position). */
  row: Uint16Array;
  /** Sub-row within the row (timeline tracks; 0 elsewhere). */
  subrow: Uint8Array;
  /** What the view colours by: timeline a palette index, locks a LockState, aliases a MiniKind. */
  style: Uint8Array;
  /** The span's SpanKind (timeline; 0 elsewhere). */
  kind: Uint8Array;
  /** Span id of a primitive that is one span, or -1 for a merged run of several. */
  spanId: Int32Array;
  /** Spans the primitive stands for: 1 for a single span, ≥ 2 for a merged run. */
  spanCount: Uint32Array;
  /** render/faded.ts Edge bits: a start or end the trace does not show (single spans only). */
  edge: Uint8Array;

  constructor(capacity = 256) {
    const n = Math.max(1, capacity);
    this.xPx = new Float32Array(n);
    this.widthPx = new Float32Array(n);
    this.row = new Uint16Array(n);
    this.subrow = new Uint8Array(n);
    this.style = new Uint8Array(n);
    this.kind = new Uint8Array(n);
    this.spanId = new Int32Array(n);
    this.spanCount = new Uint32Array(n);
    this.edge = new Uint8Array(n);
  }

  /** Appends one primitive (growing the columns by doubling); returns its index. */
  push(xPx: number, widthPx: number, row: number, subrow: number, style: number, kind: number, spanId: number, spanCount: number, edge = 0): number {
    if (this.count === this.xPx.length) this.grow();
    const i = this.count++;
    this.xPx[i] = xPx;
    this.widthPx[i] = widthPx;
    this.row[i] = row;
    this.subrow[i] = subrow;
    this.style[i] = style;
    this.kind[i] = kind;
    this.spanId[i] = spanId;
    this.spanCount[i] = spanCount;
    this.edge[i] = edge;
    return i;
  }

  /** Index of the last-pushed primitive on (row, subrow) covering plot x ± slopPx, or -1 (the last drawn is on top). */
  hitTest(xPx: number, row: number, subrow = 0, slopPx = 1): number {
    for (let i = this.count - 1; i >= 0; i--) {
      if (this.row[i] !== row || this.subrow[i] !== subrow) continue;
      if (xPx >= this.xPx[i]! - slopPx && xPx <= this.xPx[i]! + this.widthPx[i]! + slopPx) return i;
    }
    return -1;
  }

  /** Primitive i as an object: for tests and the edges (inspector, probes), never a draw loop. */
  at(i: number): Prim {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`PrimBuffer: no primitive ${i} of ${this.count}`);
    return {
      xPx: this.xPx[i]!, widthPx: this.widthPx[i]!, row: this.row[i]!, subrow: this.subrow[i]!, style: this.style[i]!,
      kind: this.kind[i]!, spanId: this.spanId[i]!, spanCount: this.spanCount[i]!, edge: this.edge[i]!,
    };
  }

  /** Every primitive as an object, in push (= draw) order. */
  toArray(): Prim[] {
    const out: Prim[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.at(i));
    return out;
  }

  private grow(): void {
    const n = this.xPx.length * 2;
    this.xPx = resized(this.xPx, n); this.widthPx = resized(this.widthPx, n); this.row = resized(this.row, n);
    this.subrow = resized(this.subrow, n); this.style = resized(this.style, n); this.kind = resized(this.kind, n);
    this.spanId = resized(this.spanId, n); this.spanCount = resized(this.spanCount, n); this.edge = resized(this.edge, n);
  }
}
