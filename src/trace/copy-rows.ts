// Copies rows between stores whose string tables differ: `str` columns are remapped through an
// id map (built once per source table and extended as it grows), every other column is copied as is.
import { FIELD_TYPES, type FieldName } from './schema.ts';
import type { Column, TraceStore } from './store.ts';
import type { StringTable } from './strings.ts';

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
    const cols = new Map<string, Column>();
    for (const key of src.columnKeysInUse()) {
      const c = src.col(key).subarray(fromRow, toRow);
      if (map && FIELD_TYPES[key as FieldName] === 'str') {
        const out = new Uint32Array(toRow - fromRow);
        for (let i = 0; i < out.length; i++) out[i] = map[c[i]!]!;
        cols.set(key, out);
      } else cols.set(key, c);
    }
    this.dst.appendColumns(toRow - fromRow, src.kinds.subarray(fromRow, toRow), src.tsNs.subarray(fromRow, toRow), cols);
  }
}
