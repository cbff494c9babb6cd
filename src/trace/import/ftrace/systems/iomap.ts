// System `iomap`: upstream fs/iomap tracepoints (fuse-iomap-domain.md §4.5), as ext4 and XFS
// fire them. Events not listed here stay instants with their body.
import { mapFlagStrings, mapTypeFromName, parseFlags } from '../../../fuse-proto.ts';
import { hasAt, isWord, isWs } from '../../units.ts';
import type { TracepointContext, TracepointSystem } from '../context.ts';
import { BodyError, parseNum, type Cursor } from '../cursor.ts';
import { devT } from '../fields.ts';

/** Distinct iomap_iter flag texts cached (a handful in a real trace). */
const MAX_CACHED_FLAG_TEXTS = 256;

/** Upstream IOMAP_F_* trace names → the fuse map-flag strings with the same meaning (§2.2 vs §1.7). */
const KERNEL_MAP_FLAG_TO_FUSE: Record<string, string> = {
  NEW: 'new', DIRTY: 'dirty', SHARED: 'shared', MERGED: 'merged', BOUNDARY: 'boundary',
  ANON_WRITE: 'anon_write', ATOMIC_BIO: 'atomic', SIZE_CHANGED: 'append', STALE: 'stale',
};

interface IomapState {
  /** iomap_iter_*map `flags` text → fuse map flags (splitting it per line was 1.5% of the parse). */
  readonly kernelMapFlags: Map<string, number>;
}

export const iomapSystem: TracepointSystem<IomapState> = {
  name: 'iomap',
  newState: () => ({ kernelMapFlags: new Map() }),
  handlers: {
    iomap_iter_dstmap: iterMap,
    iomap_iter_srcmap: iterMap,
    iomap_iter(ctx, c) {
      // Remembered for the task's next iomap_iter_dstmap: the slot it fills.
      ctx.taskState.iterWrite = iterFlagsWrite(c);
      ctx.keepAsInstant();
    },
  },
};

/**
 * `dev %d:%d ino 0x%llx bdev %d:%d addr 0x%llx offset 0x%llx length 0x%llx type %s (0x%x) flags %s (0x%x)`:
 * dstmap is the write slot if the task's last iomap_iter had WRITE, srcmap the read one; kernel
 * IOMAP_F_* names become the fuse flag bits of the same meaning; mapDev is bdev as a dev_t.
 */
function iterMap(ctx: TracepointContext, c: Cursor, s: IomapState): void {
  c.token('dev');
  const ino = c.num('ino');
  const bdev = c.token('bdev');
  const mapAddr = c.u64('addr');
  const mapOffsetBytes = c.num('offset');
  const mapLenBytes = c.num('length');
  const typeName = c.token('type');
  const flagsText = c.token('flags');
  const mapType = mapTypeFromName(typeName.toLowerCase()) ?? parseNum(typeName);
  if (Number.isNaN(mapType)) throw new BodyError(c.p, `unknown mapping type '${typeName}'`);
  let mapFlags = s.kernelMapFlags.get(flagsText);
  if (mapFlags === undefined) {
    const fuseNames = flagsText.split('|').map((f) => KERNEL_MAP_FLAG_TO_FUSE[f] ?? '').filter((f) => f !== '');
    mapFlags = parseFlags(fuseNames.join('|'), mapFlagStrings).value;
    if (s.kernelMapFlags.size >= MAX_CACHED_FLAG_TEXTS) s.kernelMapFlags.clear();
    s.kernelMapFlags.set(flagsText, mapFlags);
  }
  const slot = ctx.name === 'iomap_iter_srcmap' ? 'read' : ctx.taskState.iterWrite ? 'write' : 'read';
  ctx.emit({ rawType: '',
    kind: 'iomap_map', tsNs: ctx.tsNs, task: ctx.task, nodeId: 0, ino, slot, source: 'reply',
    mapType, mapFlags, mapOffsetBytes, mapLenBytes,
    mapAddr, mapDev: devT(bdev), cookie: 0,
  });
}

/** `/\bflags (\S*) \(/` on the body, and whether that run split on '|' includes WRITE. */
function iterFlagsWrite(c: Cursor): boolean {
  const u = c.u;
  const b = c.start;
  const end = c.end;
  for (let i = b; i + 6 <= end; i++) {
    if (u[i] !== 102 || !hasAt(u, i, 'flags ') || (i > b && isWord(u[i - 1]!))) continue;
    const s = i + 6;
    let e = s;
    while (e < end && !isWs(u[e]!)) e++;
    if (u[e] !== 32 || u[e + 1] !== 40) continue; // \S* then ' (' (a shorter run would end before a non-space)
    for (let p = s; ;) {
      let q = p;
      while (q < e && u[q] !== 124) q++;
      if (q - p === 5 && hasAt(u, p, 'WRITE')) return true;
      if (q >= e) return false;
      p = q + 1;
    }
  }
  return false;
}
