// System `fuse`: the upstream request events (fuse-iomap-domain.md §4.3) and the fuse-iomap
// series' fuse_iomap_* events (§4.4). Series events not listed here stay instants with their body.
import type { TraceEvent } from '../../../schema.ts';
import { EFSCORRUPTED, NULL_ADDR, Opcode, ioendFlagStrings, opFlagStrings } from '../../../fuse-proto.ts';
import type { TracepointContext, TracepointSystem, WaitQueue } from '../context.ts';
import type { Cursor } from '../cursor.ts';
import { inode, iodir, map, range } from '../fields.ts';

/** Replied requests' entries kept (opcodeByUnique) beyond twice the open ones before they are dropped. */
const MAX_REPLIED_KEPT = 4096;

type FuseSend = TraceEvent & { kind: 'fuse_send' };
type IomapIoend = TraceEvent & { kind: 'iomap_ioend' };

interface FuseState {
  /**
   * Opcodes of sent requests by unique; NaN once replied. (Deleting from a Map that becomes nearly
   * empty shrinks its table every time, a runtime call: 4% of the parse. Replied entries are
   * dropped in bulk instead, amortized over MAX_REPLIED_KEPT replies.)
   */
  readonly opcodeByUnique: Map<number, number>;
  openRequests: number;
  /** `req 0` sends (6.12–6.17 kernels) by connection, waiting for their request_end. */
  readonly zeroReqSends: WaitQueue<FuseSend>;
}

/** The kernel fires fuse_iomap_ioend before it decides to upcall: sent iff its task next sends FUSE_IOMAP_IOEND. */
function ioendSent(held: IomapIoend, next: TraceEvent): void {
  held.sent = next.kind === 'fuse_send' && next.opcode === Opcode.IOMAP_IOEND;
}

function dropReplied(s: FuseState): void {
  const map = s.opcodeByUnique;
  if (s.openRequests === 0) map.clear();
  else for (const [unique, opcode] of map) if (Number.isNaN(opcode)) map.delete(unique);
}

export const fuseSystem: TracepointSystem<FuseState> = {
  name: 'fuse',
  newState: (setup) => ({ opcodeByUnique: new Map(), openRequests: 0, zeroReqSends: setup.waitQueue<FuseSend>() }),
  handlers: {
    fuse_request_send(ctx, c, s) {
      const conn = c.num('connection');
      const unique = c.num('req');
      const opcode = c.num('opcode');
      const lenBytes = c.num('len');
      const ev = { kind: 'fuse_send' as const, tsNs: ctx.tsNs, task: ctx.task, unique, opcode, nodeId: 0, lenBytes };
      if (unique === 0) {
        // 6.12–6.17 print `req 0` (§4.3): it takes the req of its connection's next unmatched
        // request_end, in order (approximate by design).
        s.zeroReqSends.push(conn, ev);
        return;
      }
      const prev = s.opcodeByUnique.get(unique);
      if (prev === undefined || Number.isNaN(prev)) s.openRequests++;
      s.opcodeByUnique.set(unique, opcode);
      ctx.emit(ev);
    },
    fuse_request_end(ctx, c, s) {
      const conn = c.num('connection');
      const unique = c.num('req');
      const lenBytes = c.num('len');
      const error = c.num('error');
      let opcode = s.opcodeByUnique.get(unique);
      if (opcode === undefined || Number.isNaN(opcode)) {
        opcode = undefined;
        const send = s.zeroReqSends.take(conn);
        if (send) {
          send.unique = unique;
          opcode = send.opcode;
        }
      } else {
        s.opcodeByUnique.set(unique, NaN);
        s.openRequests--;
        if (s.opcodeByUnique.size > MAX_REPLIED_KEPT + 2 * s.openRequests) dropReplied(s);
      }
      ctx.emit({ kind: 'fuse_reply', tsNs: ctx.tsNs, task: ctx.task, unique, opcode: opcode ?? 0, error, lenBytes });
    },
    fuse_iomap_begin(ctx, c) {
      const { nodeId, ino } = inode(c);
      const opflags = ctx.flags(c.paren('opflags'), opFlagStrings, 'opflag');
      const { posBytes, lenBytes } = range(c);
      ctx.emit({ fsDev: 0, kind: 'iomap_begin', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, opflags, posBytes, lenBytes });
    },
    fuse_iomap_read_map: iomapMap,
    fuse_iomap_write_map: iomapMap,
    fuse_iomap_end(ctx, c) {
      // `length` twice: the RANGE's, then the MAP's (positional).
      const { nodeId, ino } = inode(c);
      const opflags = ctx.flags(c.paren('opflags'), opFlagStrings, 'opflag');
      const { posBytes, lenBytes } = range(c);
      const writtenBytes = c.num('written');
      const m = map(ctx, c, '');
      ctx.emit({ rawType: '', kind: 'iomap_end', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, opflags, posBytes, lenBytes, writtenBytes, ...m });
    },
    fuse_iomap_ioend(ctx, c) {
      const { nodeId, ino, idisksize } = inode(c);
      const { posBytes, lenBytes: writtenBytes } = range(c);
      const ioendFlags = ctx.flags(c.paren('ioendflags'), ioendFlagStrings, 'ioend flag');
      const error = c.num('error');
      if (c.has('dev')) c.num('dev');
      const newAddr = c.u64('new_addr');
      // The tracepoint has no size after the ioend: an append ioend extends the on-disk size to
      // its end, any other leaves the kernel's idisksize (the kernel's own estimate, §1.5).
      const appends = (ioendFlags & 16) !== 0;
      const newSizeBytes = appends ? Math.max(idisksize, posBytes + writtenBytes) : idisksize;
      ctx.defer({
        kind: 'iomap_ioend' as const, tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, posBytes, writtenBytes, ioendFlags, error,
        newAddr, newSizeBytes, sent: false,
      }, ioendSent);
    },
    fuse_iomap_bad_data(ctx, c) {
      ctx.emit({
        kind: 'iomap_bad_data', tsNs: ctx.tsNs, task: ctx.task, nodeId: 0, ino: 0, message: c.text().trim(), error: -EFSCORRUPTED,
      });
    },
    fuse_iomap_cache_lookup(ctx, c) {
      // A miss unless the same task's next event is its _result (below), which completes it.
      const { nodeId, ino } = inode(c);
      const { posBytes, lenBytes } = range(c);
      const fork = iodir(c);
      ctx.defer({ forkAbsent: false, rawType: '',
        kind: 'cache_lookup' as const, tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, fork, posBytes, lenBytes, hit: false,
        mapType: 0, mapFlags: 0, mapOffsetBytes: 0, mapLenBytes: 0, mapAddr: NULL_ADDR, mapDev: 0, cookie: 0,
      }, null);
    },
    fuse_iomap_cache_lookup_result(ctx, c) {
      // The `map…` mapping is the cached one trimmed to the request; `got…` the whole extent.
      const { nodeId, ino } = inode(c);
      const { posBytes, lenBytes } = range(c);
      const fork = iodir(c);
      const m = map(ctx, c, 'map');
      map(ctx, c, 'got');
      const cookie = c.num('cookie');
      const pending = ctx.deferred();
      if (pending?.kind === 'cache_lookup' && pending.fork === fork && pending.nodeId === nodeId) {
        ctx.closeDeferred();
        Object.assign(pending, { hit: true, cookie, ...m });
        return;
      }
      ctx.emit({ forkAbsent: false, rawType: '', kind: 'cache_lookup', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, fork, posBytes, lenBytes, hit: true, ...m, cookie });
    },
    fuse_iomap_upsert_mappings: upsert,
    fuse_iomap_upsert: upsert, // v4–v6 name
    fuse_iomap_inval_mappings: inval,
    fuse_iomap_inval: inval, // v4–v6 name
    fuse_iomap_invalid(ctx, c) {
      const { nodeId, ino } = inode(c);
      const m = map(ctx, c, '');
      const oldCookie = c.num('old_cookie');
      const newCookie = c.num('new_cookie');
      ctx.emit({ rawType: '', kind: 'cache_stale', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, posBytes: m.mapOffsetBytes, oldCookie, newCookie, ...m });
    },
  },
};

/** fuse_iomap_read_map / _write_map: one slot of a BEGIN reply. */
function iomapMap(ctx: TracepointContext, c: Cursor): void {
  const { nodeId, ino } = inode(c);
  const m = map(ctx, c, '');
  ctx.emit({ rawType: '',
    kind: 'iomap_map', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, slot: ctx.name === 'fuse_iomap_read_map' ? 'read' : 'write',
    source: 'reply', ...m, cookie: 0,
  });
}

/** fuse_iomap_upsert_mappings: the server's mappings for both forks. */
function upsert(ctx: TracepointContext, c: Cursor): void {
  const { nodeId, ino } = inode(c);
  c.num('attr_ino');
  const read = map(ctx, c, 'read');
  const write = map(ctx, c, 'write');
  const { tsNs, task } = ctx;
  // A fork whose type is NOCACHE (or the null type) is left alone by the kernel (§1.5).
  if (read.mapType < 253) ctx.emit({ rawType: '', rejected: false, kind: 'cache_upsert', tsNs, task, nodeId, ino, fork: 'read', ...read, seq: 0 });
  if (write.mapType < 253) ctx.emit({ rawType: '', rejected: false, kind: 'cache_upsert', tsNs, task, nodeId, ino, fork: 'write', ...write, seq: 0 });
}

/** fuse_iomap_inval_mappings: a range per fork; length 0 leaves that fork alone. */
function inval(ctx: TracepointContext, c: Cursor): void {
  const { nodeId, ino } = inode(c);
  c.num('attr_ino');
  for (const fork of ['read', 'write'] as const) {
    const { posBytes, lenBytes } = range(c, fork + 'pos');
    if (lenBytes !== 0) ctx.emit({ kind: 'cache_inval', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, fork, posBytes, lenBytes, reason: 'server', seq: 0 });
  }
}
