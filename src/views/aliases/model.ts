// Pure model of the aliasing view (docs/domain.md §5.3).
//
//   paths            nodeIds            inodes
//   /d1/file ───────▶ 4 ───────┐
//   /d2/link ───────▶ 5 ───────┴──────▶ ino 14 (or "ino unknown")  ← alias group (highlighted)
//   /d1      ───────▶ 2 ──────────────▶ ino 13
//
// The graph is three columns; an edge or node is "aliased" when its nodeId's group (evidence: same
// real ino, or a LINK — trace/derive/aliases.ts) has several nodeIds. A group without an inode
// number gets one "ino unknown" node; a nodeId alone without one gets none. Per
// alias group a mini-timeline shows, per nodeId, the IO through it (iomap steps, or FUSE READ/WRITE
// requests in a trace without iomap) and its
// i_rwsem holds; exclusive holds of different nodeIds that overlap in time are the broken
// locking model and are marked.

import type { AliasGroup, AliasIndex } from '../../trace/derive/aliases.ts';
import { inoLabel, inoText } from '../../trace/derive/inode-groups.ts';
import { countUnendedWriteHolds, exclusiveOverlaps, type LockIndex } from '../../trace/derive/locks.ts';
import { SPAN_SUBROW, SpanKind, type SpanIndex } from '../../trace/spans.ts';
import type { TraceStore } from '../../trace/store.ts';
import { TimeScale } from '../../render/time-scale.ts';
import { PrimBuffer } from '../../render/prim-buffer.ts';
import { InodeState, Opcode, formatFlags, inodeStateStrings } from '../../trace/fuse-proto.ts';
import { INFERRED_STUB_PX, fadedEdges, isInferredStub } from '../../render/faded.ts';
import { asIno, NO_NODE_ID, UNKNOWN_INO, type NodeId, type Ino } from '../../trace/ids.ts';

type GraphColumn = 0 | 1 | 2;
export interface GraphNode {
  id: string;
  column: GraphColumn;
  label: string;
  /** Position within its column, 0-based. */
  slot: number;
  aliased: boolean;
  /** Its group's evidence names two inode numbers. */
  conflict: boolean;
  /** Its group's inode number (0: unknown or disagreeing) — the linked-hover key. */
  ino: Ino;
  /** Hover text. */
  title: string;
  /** Row to select when clicked (first event naming it). */
  row: number;
}
interface GraphEdge { from: string; to: string; aliased: boolean }
export interface AliasGraph { nodes: GraphNode[]; edges: GraphEdge[]; columnSizes: [number, number, number] }

/** More nodes than this and the graph shows alias groups only (the SVG stays small: no thousands of DOM nodes). */
const MAX_GRAPH_NODES = 400;

export function buildAliasGraph(aliases: AliasIndex): AliasGraph {
  const groups = aliases.groups();
  const aliasedIds = new Set(groups.map((g) => g.id));
  const onlyGroups = aliases.nodes.size * 2 + aliases.paths.size > MAX_GRAPH_NODES;
  const groupOf = (id: NodeId): AliasGroup | undefined => aliases.groupOf(id);
  const sortKey = (n: { nodeId: NodeId }): number => groupOf(n.nodeId)?.inos[0] ?? Infinity;
  const nodeIds = [...aliases.nodes.values()]
    .filter((n) => !onlyGroups || aliasedIds.has(groupOf(n.nodeId)?.id ?? NO_NODE_ID))
    .sort((a, b) => sortKey(a) - sortKey(b) || (groupOf(a.nodeId)?.id ?? 0) - (groupOf(b.nodeId)?.id ?? 0) || a.nodeId - b.nodeId);
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const sizes: [number, number, number] = [0, 0, 0];
  const seenInode = new Set<string>();
  const seenPath = new Set<string>();
  for (const n of nodeIds) {
    const g = groupOf(n.nodeId);
    const aliased = g !== undefined && aliasedIds.has(g.id);
    const conflict = g?.conflict ?? false;
    const ino = g?.ino ?? UNKNOWN_INO;
    for (const p of n.paths) {
      if (!seenPath.has(p)) {
        seenPath.add(p);
        nodes.push({ id: `p:${p}`, column: 0, label: p, title: p, slot: sizes[0]++, aliased, conflict, ino, row: aliases.paths.get(p)?.firstRow ?? n.firstRow });
      }
      edges.push({ from: `p:${p}`, to: `n:${n.nodeId}`, aliased });
    }
    const inos = g?.inos ?? [];
    nodes.push({
      id: `n:${n.nodeId}`, column: 1, label: `nodeid ${n.nodeId}${iomapBadge(n.iomapState)}`,
      title: `nodeid ${n.nodeId} → ${inoText(inos)}${n.iomapState ? ` · fuse_iomap_init_inode state: ${formatFlags(n.iomapState, inodeStateStrings)}` : ''}`,
      slot: sizes[1]++, aliased, conflict, ino, row: n.firstRow,
    });
    // The inode nodes: each number the evidence names (a member with its own number points at
    // it, one without at all of the group's), or one "ino unknown" node for an alias group.
    const own = aliases.inodes.ownInos(n.nodeId);
    const targets = inos.length === 0 ? (aliased ? [`u:${g!.id}`] : []) : (own.length > 0 ? own : inos).map((i) => `i:${i}`);
    for (const t of targets) {
      if (!seenInode.has(t)) {
        seenInode.add(t);
        const number = asIno(t.startsWith('i:') ? Number(t.slice(2)) : 0);
        const label = `${inoLabel(number)}${number && conflict ? ' ⚠' : ''}`;
        const title = number
          ? `ino ${number}${conflict ? ` — the evidence for this inode disagrees: ${inoText(inos)}` : ''}`
          : 'ino unknown: a LINK says these nodeids are one inode; no reply or tracepoint in the trace gives its number';
        nodes.push({ id: t, column: 2, label, title, slot: sizes[2]++, aliased, conflict, ino: number, row: n.firstRow });
      }
      edges.push({ from: `n:${n.nodeId}`, to: t, aliased });
    }
  }
  return { nodes, edges, columnSizes: sizes };
}

export interface AliasGroupRow {
  /** The group's key (its smallest nodeId). */
  id: NodeId;
  /** The inode number; 0 when unknown or when the evidence disagrees (see inos). */
  ino: Ino;
  inos: Ino[];
  conflict: boolean;
  nodeIds: NodeId[];
  paths: string[];
  /** Paths per nodeId, in nodeIds order. */
  pathsByNode: string[][];
  overlapCount: number;
  overlapTotalNs: number;
  /** W holds on the group's nodeIds whose start or end the trace does not show: not compared, counted apart. */
  unendedHolds: number;
  /** i_rwsem holds of any mode through the group's nodeIds. 0: nothing to compare — a real kernel
   *  traces a lock only when it is contended (lock:contention_*), so overlaps are unknown, not none. */
  holdsSeen: number;
}

/** ` · iomap` / ` · iomap excl` for a nodeId the kernel set up as an iomap file (fuse_iomap_init_inode), else ''. */
function iomapBadge(state: number): string {
  if ((state & InodeState.IOMAP) === 0) return '';
  return (state & InodeState.EXCL) !== 0 ? ' · iomap excl' : ' · iomap';
}

/** The alias group key of each lock's nodeId, for exclusiveOverlaps (0: not in the index). */
function groupKeyOf(aliases: AliasIndex): (nodeId: NodeId) => number {
  return (nodeId) => aliases.groupOf(nodeId)?.id ?? 0;
}

export function aliasGroupRows(aliases: AliasIndex, locks: LockIndex, spans: SpanIndex): AliasGroupRow[] {
  const overlaps = exclusiveOverlaps(locks, spans, 'i_rwsem', groupKeyOf(aliases));
  return aliases.groups().map((g) => {
    const mine = overlaps.filter((o) => o.inode === g.id);
    return {
      id: g.id, ino: g.ino, inos: g.inos, conflict: g.conflict, nodeIds: g.nodeIds, paths: g.paths,
      pathsByNode: g.nodeIds.map((id) => aliases.nodes.get(id)?.paths ?? []),
      overlapCount: mine.length,
      overlapTotalNs: mine.reduce((sum, o) => sum + (o.toNs - o.fromNs), 0),
      unendedHolds: countUnendedWriteHolds(locks, spans, 'i_rwsem', g.nodeIds),
      holdsSeen: locks.locks.reduce((n, l) => n + (l.lock === 'i_rwsem' && g.nodeIds.includes(l.nodeId) ? l.holdIds.length + l.headHoldIds.length : 0), 0),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Mini-timeline of one alias group: one row per nodeId, two bands (IO above, locks below).

export const MiniKind = { io: 0, holdR: 1, holdW: 2 } as const;

/**
 * What the IO band draws: the iomap steps when the trace has any; else (a server without fuse-iomap,
 * e.g. fuse2fs) the FUSE READ / WRITE requests — the IO that went through each nodeid there.
 */
export type MiniIoSource = 'iomap' | 'fuse';
export function miniIoSource(spans: SpanIndex): MiniIoSource {
  return spans.lanes.some((l) => !spans.track(l.idx, SPAN_SUBROW.iomap).isEmpty) ? 'iomap' : 'fuse';
}
const IO_OPCODES: ReadonlySet<number> = new Set([Opcode.READ, Opcode.WRITE]);
export interface MiniTimeline {
  scale: TimeScale;
  nodeIds: number[];
  /** One primitive per span (sub-pixel ones merged per column): row = nodeId position, style =
   *  MiniKind, edge = the ends the trace does not show (render/faded.ts Edge bits), drawn fading. */
  prims: PrimBuffer;
  /** Overlapping exclusive holds, in plot px. */
  overlaps: { xPx: number; widthPx: number }[];
}

/** One alias group's rows: `nodeIds` are its members (they name one inode, whatever its number). */
export function buildMiniTimeline(
  nodeIds: number[], locks: LockIndex, spans: SpanIndex, store: TraceStore,
  startNs: number, endNs: number, widthPx: number,
): MiniTimeline {
  const scale = new TimeScale(startNs, endNs, widthPx);
  const nowNs = store.endNs;
  const prims = new PrimBuffer();
  const posOf = new Map(nodeIds.map((id, i) => [id, i]));
  const nodeIdCol = store.fieldCol('nodeId');
  // Per (row, kind) the last pixel column drawn: sub-pixel spans in one column merge (LOD).
  const lastCol = new Map<string, number>();
  const add = (id: number, rowPos: number, kind: number): void => {
    const s = spans.startNs.data[id]!;
    const open = spans.isOpen(id);
    // An end the trace does not show is never drawn as a bar to the trace's end: an inferred hold
    // is a stub, an open-ended span fades out (as in the timeline and locks views); a live span
    // still running is drawn to now.
    const f = spans.flags.data[id]!;
    const edge = fadedEdges(f, open);
    const x0 = Math.max(0, scale.nsToPx(s));
    const x1 = Math.min(widthPx, isInferredStub(f, open) ? scale.nsToPx(s) + INFERRED_STUB_PX : scale.nsToPx(open ? nowNs : spans.endNs.data[id]!));
    if (x1 < 0 || x0 > widthPx) return;
    const w = x1 - x0;
    const key = `${rowPos}:${kind}`;
    if (w < 1) {
      const col = Math.floor(x0);
      if (lastCol.get(key) === col) return;
      lastCol.set(key, col);
    }
    prims.push(x0, Math.max(1, w), rowPos, 0, kind, 0, id, 1, edge);
  };
  const fromFuse = miniIoSource(spans) === 'fuse';
  const opcodeCol = store.fieldCol('opcode');
  for (const lane of spans.lanes) {
    const track = spans.track(lane.idx, fromFuse ? SPAN_SUBROW.fuse_req : SPAN_SUBROW.iomap);
    spans.forEachInRange(track, startNs, endNs, nowNs, (id) => {
      if (spans.kind.data[id] !== (fromFuse ? SpanKind.fuse_req : SpanKind.iomap)) return;
      const row = spans.beginRow.data[id]!;
      if (fromFuse && !IO_OPCODES.has(opcodeCol[row]!)) return;
      const pos = posOf.get(nodeIdCol[row]!);
      if (pos !== undefined) add(id, pos, MiniKind.io);
    });
  }
  for (const l of locks.locks) {
    const pos = posOf.get(l.nodeId);
    if (pos === undefined || l.lock !== 'i_rwsem') continue;
    for (const id of l.headHoldIds) add(id, pos, spans.style.data[id] === 1 ? MiniKind.holdW : MiniKind.holdR);
    for (let k = 0; k < l.holdIds.length; k++) {
      const id = l.holdIds.data[k]!;
      if (spans.startNs.data[id]! > endNs) break;
      add(id, pos, spans.style.data[id] === 1 ? MiniKind.holdW : MiniKind.holdR);
    }
  }
  const overlaps = exclusiveOverlaps(locks, spans, 'i_rwsem', (id) => (posOf.has(id) ? 1 : 0))
    .filter((o) => o.toNs >= startNs && o.fromNs <= endNs)
    .map((o) => {
      const x0 = Math.max(0, scale.nsToPx(o.fromNs));
      return { xPx: x0, widthPx: Math.max(2, Math.min(widthPx, scale.nsToPx(o.toNs)) - x0) };
    });
  return { scale, nodeIds, prims, overlaps };
}
