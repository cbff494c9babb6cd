import { describe, expect, it } from 'vitest';
import { TraceStore } from './store.ts';
import { NO_ROW, OpenByUnique, SpanIndex, SpanKind, SPAN_SUBROW, IOMAP_STYLE_ERROR, LockStyle } from './spans.ts';
import { ev } from './testing/events.ts';
import { MapType } from './fuse-proto.ts';

function build(events: Parameters<TraceStore['appendAll']>[0]): { store: TraceStore; spans: SpanIndex } {
  const store = new TraceStore();
  store.appendAll(events);
  const spans = new SpanIndex();
  spans.update(store);
  return { store, spans };
}

describe('SpanIndex pairing', () => {
  it('pairs a write syscall with its upcall, service and iomap step', () => {
    const { store, spans } = build([
      ev('app_op_begin', 0, 'dd/412'),
      ev('iomap_begin', 10, 'dd/412'),
      ev('fuse_send', 12, 'dd/412', { unique: 88 }),
      ev('fuse_recv', 15, 'fuse2fs/501', { unique: 88 }),
      ev('fuse_reply', 40, 'fuse2fs/501', { unique: 88 }),
      ev('iomap_map', 41, 'dd/412', { slot: 'read', mapType: MapType.UNWRITTEN }),
      ev('iomap_map', 41, 'dd/412', { slot: 'write', mapType: MapType.PURE_OVERWRITE }),
      ev('iomap_iter_end', 60, 'dd/412'),
      ev('app_op_end', 70, 'dd/412'),
    ]);
    expect(spans.count).toBe(4);
    const byKind = (k: number) => [...Array(spans.count).keys()].find((i) => spans.kind.data[i] === k)!;
    const req = byKind(SpanKind.fuse_req);
    expect([spans.startNs.data[req], spans.endNs.data[req]]).toEqual([12, 40]);
    const serve = byKind(SpanKind.fuse_serve);
    expect(spans.lanes[spans.lane.data[serve]!]).toMatchObject({ task: 'fuse2fs/501', role: 'server' });
    const iomap = byKind(SpanKind.iomap);
    // PURE_OVERWRITE write slot: the read mapping is the destination, so it colours the span.
    expect(spans.style.data[iomap]).toBe(MapType.UNWRITTEN);
    expect(spans.mapRowsOf(store, iomap)).toEqual({ read: 5, write: 6 });
    expect(spans.endNs.data[iomap]).toBe(60);
    expect(spans.endNs.data[byKind(SpanKind.app_op)]).toBe(70);
  });

  it('colours a RETRY_CACHE step by the mapping the cache then gave', () => {
    const { store, spans } = build([
      ev('iomap_begin', 0, 'a/1'),
      ev('iomap_map', 5, 'a/1', { slot: 'read', source: 'reply', mapType: MapType.RETRY_CACHE }),
      ev('iomap_map', 5, 'a/1', { slot: 'write', source: 'reply', mapType: MapType.PURE_OVERWRITE }),
      ev('iomap_map', 6, 'a/1', { slot: 'read', source: 'cache', mapType: MapType.UNWRITTEN }),
      ev('iomap_iter_end', 9, 'a/1'),
      ev('iomap_begin', 10, 'a/1'),
      ev('iomap_map', 11, 'a/1', { slot: 'write', mapType: MapType.MAPPED }),
      ev('iomap_map', 11, 'a/1', { slot: 'read', mapType: MapType.HOLE }),
      ev('iomap_iter_end', 12, 'a/1'),
    ]);
    expect(spans.style.data[0]).toBe(MapType.UNWRITTEN);
    expect(spans.mapRowsOf(store, 0)).toEqual({ read: 3, write: 2 });
    expect(spans.mapRowsOf(store, 1)).toEqual({ read: 7, write: 6 });
    // A real write destination (out-of-place) wins over the read slot (its srcmap).
    expect(spans.style.data[1]).toBe(MapType.MAPPED);
  });

  it('gives a step that never closed only the mappings before its task\'s next step', () => {
    // An import has no iomap_iter_end: every step stays open, and each is followed by the next.
    const { store, spans } = build([
      ev('iomap_begin', 0, 'a/1'),
      ev('iomap_map', 1, 'a/1', { slot: 'read', mapType: MapType.MAPPED }),
      ev('iomap_map', 1, 'b/2', { slot: 'read', mapType: MapType.HOLE }),
      ev('iomap_begin', 2, 'a/1'),
      ev('iomap_map', 3, 'a/1', { slot: 'write', mapType: MapType.UNWRITTEN }),
      ev('iomap_map', 3, 'a/1', { slot: 'read', mapType: MapType.UNWRITTEN }),
    ]);
    expect(spans.mappingRowsOf(store, 0)).toEqual([1]);
    expect(spans.mapRowsOf(store, 0)).toEqual({ read: 1, write: NO_ROW });
    expect(spans.mapRowsOf(store, 1)).toEqual({ read: 5, write: 4 });
    expect([spans.style.data[0], spans.style.data[1]]).toEqual([MapType.MAPPED, MapType.UNWRITTEN]);
  });

  it('marks a failed iomap step and pairs lock wait/hold per task and inode', () => {
    const { spans } = build([
      ev('iomap_begin', 0, 'a/1'),
      ev('iomap_iter_end', 5, 'a/1', { error: -117 }),
      ev('lock_acquire', 10, 'a/1', { nodeId: 4 }),
      ev('lock_wait', 11, 'b/2', { nodeId: 4 }),
      ev('lock_release', 30, 'a/1', { nodeId: 4 }),
      ev('lock_acquire', 30, 'b/2', { nodeId: 4 }),
    ]);
    expect(spans.style.data[0]).toBe(IOMAP_STYLE_ERROR);
    const kinds = [...spans.kind.data.subarray(0, spans.count)];
    expect(kinds).toEqual([SpanKind.iomap, SpanKind.lock_hold, SpanKind.lock_wait, SpanKind.lock_hold]);
    expect(spans.endNs.data[2]).toBe(30); // b waited 11 → 30
    expect(spans.style.data[1]).toBe(LockStyle.write);
    expect(spans.isOpen(3)).toBe(true);
  });

  it('pairs incrementally as rows arrive and answers range queries, open spans included', () => {
    const store = new TraceStore();
    const spans = new SpanIndex();
    store.append(ev('app_op_begin', 0, 'a/1'));
    spans.update(store);
    for (let i = 1; i <= 100; i++) {
      store.append(ev('iomap_begin', i * 100, 'a/1'));
      store.append(ev('iomap_iter_end', i * 100 + 10, 'a/1'));
    }
    spans.update(store);
    const lane = spans.laneOf('a/1');
    const seen: number[] = [];
    spans.forEachInRange(spans.track(lane, SPAN_SUBROW.iomap), 5000, 5205, store.endNs, (id) => seen.push(spans.startNs.data[id]!));
    expect(seen).toEqual([5000, 5100, 5200]);
    const open: number[] = [];
    spans.forEachInRange(spans.track(lane, SPAN_SUBROW.app_op), 9000, 9100, store.endNs, (id) => open.push(id));
    expect(open).toEqual([0]);
  });
});

describe('SpanIndex lane roles (what the trace shows the task to be)', () => {
  const roles = (spans: SpanIndex): Record<string, string> => Object.fromEntries(spans.lanes.map((l) => [l.task, l.role]));

  it('a thread the kernel ended a request in is a fuse server thread, even with only lock events on its lane (no fuse_recv traced)', () => {
    const { spans } = build([
      // The real fuse2fs capture's shape: fuse_request_end in the server thread, no receive event.
      ev('fuse_send', 0, 'dd/7', { unique: 2 }),
      ev('lock_wait', 1, 'fuse2fs/12', { lockAddr: 0x10n }),
      ev('lock_acquire', 2, 'fuse2fs/12', { lockAddr: 0x10n }),
      ev('fuse_reply', 3, 'fuse2fs/12', { unique: 2 }),
      // Its sibling's end came first: its lane, made later by a lock wait, is a server's too.
      ev('fuse_send', 4, 'dd/7', { unique: 4 }),
      ev('fuse_reply', 5, 'fuse2fs/13', { unique: 4 }),
      ev('lock_wait', 6, 'fuse2fs/13', { lockAddr: 0x10n }),
    ]);
    expect(roles(spans)).toEqual({ 'dd/7': 'app', 'fuse2fs/12': 'server', 'fuse2fs/13': 'server' });
  });

  it('a task seen only waiting on locks is unknown, not an app; an aborted request does not make its ender a server', () => {
    const { spans } = build([
      ev('lock_wait', 1, 'fuse2fs/11', { lockAddr: 0x10n }),
      ev('app_op_begin', 2, 'cat/9'),
      ev('fuse_send', 3, 'cat/9', { unique: 6 }),
      // umount -f: the request ends with -ENOTCONN in the aborting task.
      ev('fuse_reply', 4, 'umount/20', { unique: 6, error: -107 }),
      ev('app_op_begin', 5, 'umount/20'),
    ]);
    expect(roles(spans)).toEqual({ 'fuse2fs/11': 'unknown', 'cat/9': 'app', 'umount/20': 'app' });
  });
});

describe('OpenByUnique (open requests by unique)', () => {
  it('keeps, replaces, finds and forgets ids as a Map does, through growth and deletes in the middle of runs', () => {
    let x = 3;
    const rnd = (n: number): number => { x = (x * 1103515245 + 12345) >>> 0; return Math.floor((x / 2 ** 32) * n); };
    const table = new OpenByUnique();
    const map = new Map<number, number>();
    // Uniques as FUSE numbers them (increasing, some past 2^32), a few reused, NaN once; up to ~1,000 open at once.
    let next = 2 ** 32 - 500;
    const open: number[] = [];
    let maxOpen = 0;
    for (let step = 0; step < 40_000; step++) {
      const r = rnd(10);
      if (r < (step < 4_000 ? 6 : 5) || open.length === 0) {
        const k = rnd(50) === 0 && open.length > 0 ? open[rnd(open.length)]! : step === 777 ? Number.NaN : (next += 1 + rnd(3));
        table.set(k, step);
        if (!map.has(k)) open.push(k);
        map.set(k, step);
      } else {
        const k = open.splice(rnd(open.length), 1)[0]!;
        table.delete(k);
        map.delete(k);
        table.delete(k); // a second delete finds nothing
      }
      maxOpen = Math.max(maxOpen, map.size);
      if (step % 97 === 0) {
        expect(table.size).toBe(map.size);
        for (const k of open) expect(table.get(k)).toBe(map.get(k));
        expect(table.get(next + 1)).toBe(-1);
      }
    }
    expect(maxOpen).toBeGreaterThan(300);
  });
});
