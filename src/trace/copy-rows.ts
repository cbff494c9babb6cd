// Copies rows between stores whose string tables differ: string-id slots are remapped through an
// id map (built once per source table and extended as it grows), every other column is copied as is.
import { SLOT_IS_STR } from './slots.ts';
import type { Column, TraceStore } from './store.ts';
import type { StringTable } from './strings.ts';

/** Rows [fromRow, toRow) of `src` as slot columns, string ids mapped through `idMap` (null: kept). */
export function slotColumnsMapped(src: TraceStore, fromRow: number, toRow: number, idMap: ArrayLike<number> | null): Map<number, Column> {
  const cols = src.slotColumns(fromRow, toRow);
  if (idMap) {
    for (const [slot, c] of cols) {
      if (!SLOT_IS_STR[slot]) continue;
      const out = new Uint32Array(toRow - fromRow);
      for (let i = 0; i < out.length; i++) out[i] = idMap[c[i]!]!;
      cols.set(slot, out);
    }
  }
  return cols;
}

export class RowCopier {
  private readonly maps = new Map<StringTable, Uint32Array>();

  constructor(readonly dst: TraceStore) {}

  private mapFor(src: StringTable): Uint32Array {
    let map = this.maps.get(src);
    if (!map || map.length < src.size) {
      const next = new Uint32Array(src.size);
      const have = map?.length ?? 0;
      if (map) next.set(map);
      for (let id = have; id < src.size; id++) next[id] = this.dst.strings.intern(src.get(id));
      this.maps.set(src, (map = next));
    }
    return map;
  }

  /** Appends rows [fromRow, toRow) of `src` to the destination store. */
  copy(src: TraceStore, fromRow = 0, toRow = src.length): void {
    if (toRow <= fromRow) return;
    const same = src.strings === this.dst.strings;
    const map = same ? null : this.mapFor(src.strings);
    const cols = slotColumnsMapped(src, fromRow, toRow, map);
    this.dst.appendColumns(toRow - fromRow, src.kinds.subarray(fromRow, toRow), src.tsNs.subarray(fromRow, toRow), cols);
  }
}
