// uncached (docs/checks.md): files where (nearly) every iomap step costs a FUSE_IOMAP_BEGIN upcall.
// With the kernel's mapping cache (v3 on, docs/domain.md §3) a step inside an extent the server
// upserted, or one an earlier reply cached, is answered by the cache; without it every step waits
// for the server (§3.3). Per nodeid: steps (iomap_begin), upcalls (IOMAP_BEGIN requests), bytes
// iterated, cache lookups and hits, whole-fork drops by the size cap. A file is reported when its
// upcalls per step reach the threshold; `warning` when the cache was there but the size cap kept
// dropping it (thrashing), `info` otherwise (no cache seen: the revision has none, the server never
// fills it, or its tracepoints were off — the trace cannot tell which).
import { KIND_CODE, ENUMS } from '../schema.ts';
import type { TraceStore } from '../store.ts';
import { Opcode } from '../fuse-proto.ts';
import type { Checker, CheckSettings, Finding, RuleInfo } from './types.ts';
import { fmtNs, rowSet } from './text.ts';

const K = KIND_CODE;
const DROP_OVERFLOW = ENUMS.reason.indexOf('overflow');
const MIB = 1 << 20;

interface PerNode {
  steps: number;
  upcalls: number;
  ioBytes: number;
  lookups: number;
  hits: number;
  overflowDrops: number;
  firstStepRow: number;
  firstUpcallRow: number;
  firstDropRow: number;
  firstNs: number;
  lastNs: number;
}

class UncachedChecker implements Checker {
  readonly rule = 'uncached' as const;
  private readonly byNode = new Map<number, PerNode>();
  /** The last nodeid looked up and its entry: rows of one file come in runs, and an entry is never replaced. */
  private lastNodeId = -1;
  private last: PerNode | null = null;

  constructor(private readonly everyShare: number, private readonly minSteps: number) {}

  private of(n: number): PerNode {
    if (n === this.lastNodeId && this.last !== null) return this.last;
    let p = this.byNode.get(n);
    if (!p) {
      p = { steps: 0, upcalls: 0, ioBytes: 0, lookups: 0, hits: 0, overflowDrops: 0, firstStepRow: -1, firstUpcallRow: -1, firstDropRow: -1, firstNs: 0, lastNs: 0 };
      this.byNode.set(n, p);
    }
    this.lastNodeId = n;
    this.last = p;
    return p;
  }

  onRows(store: TraceStore, from: number, to: number, rowBase: number): void {
    const kinds = store.kinds;
    const ts = store.tsNs;
    const nodeId = store.col('nodeId');
    const opcode = store.col('opcode');
    const processed = store.col('processedBytes');
    const hit = store.col('hit');
    const forkAbsent = store.col('forkAbsent');
    const reason = store.col('reason');
    for (let row = from; row < to; row++) {
      const k = kinds[row]!;
      if (k === K.iomap_begin) {
        const n = nodeId[row]!;
        if (n === 0) continue; // a kernel filesystem's own step: no upcall to count
        const p = this.of(n);
        if (p.steps++ === 0) { p.firstStepRow = rowBase + row; p.firstNs = ts[row]!; }
        p.lastNs = ts[row]!;
      } else if (k === K.fuse_send) {
        if (opcode[row] !== Opcode.IOMAP_BEGIN) continue;
        const p = this.of(nodeId[row]!);
        if (p.upcalls++ === 0) p.firstUpcallRow = rowBase + row;
      } else if (k === K.iomap_iter_end) {
        const n = nodeId[row]!;
        if (n !== 0) this.of(n).ioBytes += processed[row]!;
      } else if (k === K.cache_lookup) {
        if (forkAbsent[row]) continue; // neither a hit nor a miss
        const p = this.of(nodeId[row]!);
        p.lookups++;
        if (hit[row]) p.hits++;
      } else if (k === K.cache_drop) {
        if (reason[row] !== DROP_OVERFLOW) continue;
        const p = this.of(nodeId[row]!);
        if (p.overflowDrops++ === 0) p.firstDropRow = rowBase + row;
      }
    }
  }

  findings(): Finding[] {
    const out: Finding[] = [];
    for (const n of [...this.byNode.keys()].sort((a, b) => a - b)) {
      const p = this.byNode.get(n)!;
      if (p.steps < this.minSteps) continue;
      const perStep = p.upcalls / p.steps;
      if (perStep < this.everyShare) continue;
      const thrashing = p.overflowDrops > 0;
      const kind = thrashing ? 'thrashing' : p.lookups === 0 ? 'no-cache' : 'misses';
      const perMiB = p.ioBytes > 0 ? p.upcalls / (p.ioBytes / MIB) : null;
      const hitRate = p.lookups > 0 ? p.hits / p.lookups : null;
      const pct = (x: number) => `${+(x * 100).toPrecision(3)} %`;
      const figure = `${p.upcalls} IOMAP_BEGIN upcalls for ${p.steps} iomap steps (${pct(perStep)})` +
        (perMiB === null ? '' : `, ${+perMiB.toPrecision(3)} per MiB of the ${p.ioBytes} bytes iterated`) +
        ` over ${fmtNs(p.lastNs - p.firstNs)}`;
      const why = kind === 'no-cache'
        ? 'The trace shows no mapping cache lookup for it: the revision has no cache (RFC v1 has none; it came with RFC v3), the server never filled it, or the cache tracepoints were not enabled — the trace cannot tell which.'
        : kind === 'thrashing'
          ? `The cache was there (${p.lookups} lookups, hit rate ${pct(hitRate ?? 0)}) but the kernel dropped the whole fork ${p.overflowDrops} time${p.overflowDrops === 1 ? '' : 's'} for passing its size cap (§3.2), so the mappings kept being refetched: the cache thrashes.`
          : `The cache was looked up ${p.lookups} times with a hit rate of ${pct(hitRate ?? 0)}: its mappings did not cover the IO.`;
      out.push({
        rule: this.rule, severity: thrashing ? 'warning' : 'info',
        explanation: `uncached: nodeid ${n}: ${figure}, at or above the ${pct(this.everyShare)} threshold setting: every IO waits for the server. ` +
          'With the kernel\'s mapping cache (from RFC v3, docs/domain.md §3) a step inside a mapping the server upserted or an earlier reply left ' +
          `in the cache is answered without an upcall (§3.3). ${why}`,
        tsNs: p.firstNs, durNs: p.lastNs - p.firstNs,
        evidence: rowSet([p.firstStepRow, p.firstUpcallRow, p.firstDropRow]),
        figures: {
          nodeId: n, kind, steps: p.steps, upcalls: p.upcalls, upcallsPerStep: perStep, upcallsPerMiB: perMiB, ioBytes: p.ioBytes,
          lookups: p.lookups, hits: p.hits, hitRate, overflowDrops: p.overflowDrops, thresholdPerStep: this.everyShare,
        },
      });
    }
    return out;
  }
}

export const uncachedRule: RuleInfo = {
  id: 'uncached',
  title: 'files where every iomap step costs an upcall: no cache, cache misses, or a cache thrashing by size-cap drops',
  create: (s: CheckSettings) => new UncachedChecker(s.uncached.everyShare, s.uncached.minSteps),
};
