// Copies rows between stores whose string tables differ: string-id columns are remapped through an
// id map (built once per source table and extended as it grows), every other column is copied as is.
import { COLUMN_IS_STR } from './columns.ts';
import type { Column, TraceStore } from './store.ts';
import type { StringTable } from './strings.ts';

/** Rows [fromRow, toRow) of `src` as columns, string ids mapped through `idMap` (null: kept). */
export function columnsMapped(src: TraceStore, fromRow: number, toRow: number, idMap: ArrayLike<number> | null): Map<number, Column> {
  const cols = src.columns(fromRow, toRow);
  if (idMap) {
    for (const [column, c] of cols) {
      if (!COLUMN_IS_STR[column]) continue;
      const out = new Uint32Array(toRow - fromRow);
      for (let i = 0; i < out.length; i++) out[i] = idMap[c[i]!]!;
      cols.set(column, out);
    }
  }
  return cols;
}

/**
 * Id maps from source string tables into `dst`: ids[srcId] = dstId, extended as a source table
 * grows (capacity doubles, so a table growing string by string costs linear time, not quadratic).
 */
export class StringIdMaps {
  private readonly maps = new WeakMap<StringTable, { ids: Uint32Array; filled: number }>();

  constructor(private readonly dst: StringTable) {}

  /** The map for `src`, covering every id `src` has issued (entries past src.size are unset). */
  of(src: StringTable): Uint32Array {
    let m = this.maps.get(src);
    if (!m) this.maps.set(src, (m = { ids: new Uint32Array(Math.max(16, src.size)), filled: 0 }));
    if (m.filled < src.size) {
      if (m.ids.length < src.size) {
        const grown = new Uint32Array(Math.max(src.size, m.ids.length * 2));
        grown.set(m.ids.subarray(0, m.filled));
        m.ids = grown;
      }
      for (let id = m.filled; id < src.size; id++) m.ids[id] = this.dst.intern(src.get(id));
      m.filled = src.size;
    }
    return m.ids;
  }
}

export class RowCopier {
  private readonly maps: StringIdMaps;

  constructor(readonly dst: TraceStore) {
    this.maps = new StringIdMaps(dst.strings);
  }

  /** Appends rows [fromRow, toRow) of `src` to the destination store. */
  copy(src: TraceStore, fromRow = 0, toRow = src.length): void {
    if (toRow <= fromRow) return;
    const map = src.strings === this.dst.strings ? null : this.maps.of(src.strings);
    const cols = columnsMapped(src, fromRow, toRow, map);
    this.dst.appendColumns(toRow - fromRow, src.kinds.subarray(fromRow, toRow), src.tsNs.subarray(fromRow, toRow), cols);
  }
}
