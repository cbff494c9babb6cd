import { describe, expect, it } from 'vitest';
import { LIGHT_PALETTE } from '../../render/palette.ts';
import { ev } from '../../trace/testing/events.ts';
import type { TraceEvent } from '../../trace/schema.ts';
import { derived, recordingContext } from '../testing-fixtures.ts';
import { LockState, buildLocksModel, clickTarget, hitTestLocks, lockIdentityRows, lockRows, rowStartPos } from './model.ts';
import { drawLocks, type LockCanvas } from './draw.ts';
import { UNKNOWN_INO } from '../../trace/ids.ts';

// A: [====W held====]
// B:      [..wait..][=W=]
const SERIAL = [
  ev('lock_acquire', 0, 'A/1', { nodeId: 12, ino: 12, mode: 'W' }),
  ev('lock_wait', 100, 'B/2', { nodeId: 12, ino: 12, mode: 'W' }),
  ev('lock_release', 500, 'A/1', { nodeId: 12, ino: 12, mode: 'W' }),
  ev('lock_acquire', 500, 'B/2', { nodeId: 12, ino: 12, mode: 'W' }),
  ev('lock_release', 700, 'B/2', { nodeId: 12, ino: 12, mode: 'W' }),
];

describe('locks view model', () => {
  it('has a header row per lock and a row per task', () => {
    const { locks } = derived(SERIAL);
    expect(lockRows(locks).map((r) => `${r.type}:${r.label}`)).toEqual(['lock:ino 12 · i_rwsem nodeid 12', 'task:A/1', 'task:B/2']);
    expect(lockRows(locks, { task: 'B' }).map((r) => r.label)).toEqual(['ino 12 · i_rwsem nodeid 12', 'B/2']);
    // The search lowercases its terms (task:b); a task's name keeps its case.
    expect(lockRows(locks, { task: 'b' }).map((r) => r.label)).toEqual(['ino 12 · i_rwsem nodeid 12', 'B/2']);
    expect(lockRows(locks, { ino: 99 })).toEqual([]);
  });
  it('draws each wide span as one clickable primitive and a flow waiter ← holder', () => {
    const { locks, spans, store } = derived(SERIAL);
    const m = buildLocksModel(locks, spans, store, 0, 1000, 1000);
    const prims = [...Array(m.prims.count).keys()].map((i) => [m.prims.row[i], m.prims.style[i], m.prims.xPx[i], m.prims.widthPx[i], m.prims.spanCount[i]]);
    expect(prims).toEqual([
      [1, LockState.write, 0, 500, 1],
      [2, LockState.wait, 100, 400, 1],
      [2, LockState.write, 500, 200, 1],
    ]);
    expect(m.flows).toEqual([expect.objectContaining({ fromXPx: 500, fromRowPos: 1, toXPx: 500, toRowPos: 2 })]);
  });
  it('lets contended states win when zoomed out, with bounded primitives', () => {
    // 2000 short hold/wait pairs in 100 px: ≤ 100 primitives per row, and wait is what shows.
    const events: TraceEvent[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = i * 10;
      events.push(ev('lock_acquire', t, 'A/1', { mode: 'R' }), ev('lock_wait', t + 1, 'B/2', { mode: 'W' }));
      events.push(ev('lock_release', t + 5, 'A/1', { mode: 'R' }), ev('lock_acquire', t + 5, 'B/2', { mode: 'W' }), ev('lock_release', t + 6, 'B/2', { mode: 'W' }));
    }
    const { locks, spans, store } = derived(events);
    const m = buildLocksModel(locks, spans, store, 0, 20_000, 100);
    expect(m.prims.count).toBeLessThanOrEqual(200);
    const states = new Set([...m.prims.style.subarray(0, m.prims.count)].filter((_s, i) => m.prims.row[i] === 2));
    expect(states).toEqual(new Set([LockState.wait]));
    expect(m.flows).toEqual([]); // too many waits for arrows
    const { ctx, log } = recordingContext<LockCanvas>();
    const n = drawLocks(ctx, m, { palette: LIGHT_PALETTE, widthPx: 300, heightPx: 100, ticks: [], hoverLockIdx: -1, hoverIno: UNKNOWN_INO, selectedSpanId: -1, waitFill: '#555' });
    expect(n).toBeLessThan(250);
    expect(log.filter((l) => l[0] === 'fillRect').length).toBeLessThan(250);
  });
  it('a click on a wait selects its holder; on a hold, the hold', () => {
    const { locks, spans, store } = derived(SERIAL);
    const m = buildLocksModel(locks, spans, store, 0, 1000, 1000);
    const wait = hitTestLocks(m, locks, spans, store.endNs, 300, 2);
    expect(spans.kind.data[wait]).toBe(4); // lock_wait
    const target = clickTarget(locks, spans, wait);
    expect(spans.lanes[spans.lane.data[target]!]!.task).toBe('A/1');
    const hold = hitTestLocks(m, locks, spans, store.endNs, 600, 2);
    expect(clickTarget(locks, spans, hold)).toBe(hold);
    expect(hitTestLocks(m, locks, spans, store.endNs, 300, 0)).toBe(-1); // header row
  });

  it('draws LOD buckets\' states within one column of where span by span puts them, zoomed in and out', () => {
    // Three tasks on one i_rwsem and one on another: short holds (R and W), waits, one long hold.
    const events: TraceEvent[] = [];
    let t = 0;
    let seed = 7;
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    for (let i = 0; i < 4000; i++) {
      const task = ['A/1', 'B/2', 'C/3', 'D/4'][i % 4]!;
      const nodeId = task === 'D/4' ? 13 : 12;
      const mode = rnd(3) === 0 ? 'R' : 'W';
      const lock = { nodeId, ino: nodeId, mode } as const;
      t += 1 + rnd(40);
      if (rnd(5) === 0) { events.push(ev('lock_wait', t, task, lock)); t += 1 + rnd(30); }
      events.push(ev('lock_acquire', t, task, lock));
      t += i === 2000 ? 50_000 : 1 + rnd(60);
      events.push(ev('lock_release', t, task, lock));
    }
    const { locks, spans, store } = derived(events);
    locks.trim(spans);
    const endNs = store.endNs;
    const cases = [[0, endNs, 1000], [0, endNs, 333], [endNs / 3, endNs / 2, 700], [1000, 1500, 800], [0, endNs, 97.5]] as const;
    let lodSpans = 0;
    for (const [fromNs, toNs, widthPx] of cases) {
      const lod = buildLocksModel(locks, spans, store, fromNs, toNs, widthPx);
      const exact = buildLocksModel(locks, spans, store, fromNs, toNs, widthPx, {}, false);
      // The state each row shows in each column.
      const states = (m: typeof lod): Map<number, Uint8Array> => {
        const out = new Map<number, Uint8Array>();
        for (let i = 0; i < m.prims.count; i++) {
          let row = out.get(m.prims.row[i]!);
          if (!row) out.set(m.prims.row[i]!, (row = new Uint8Array(Math.ceil(widthPx) + 1)));
          for (let x = m.prims.xPx[i]!; x < m.prims.xPx[i]! + m.prims.widthPx[i]!; x++) row[x] = m.prims.style[i]!;
        }
        return out;
      };
      const a = states(lod);
      const b = states(exact);
      expect([...a.keys()].sort(), `range ${fromNs}-${toNs}`).toEqual([...b.keys()].sort());
      for (const [row, la] of a) {
        const lb = b.get(row)!;
        for (let x = 0; x < la.length; x++) {
          // A bucket's spans moved left by < ½ px: its state shows here or came from one column right.
          const where = `range ${fromNs}-${toNs} at ${widthPx} px, row ${row} column ${x}`;
          expect(la[x], where).toBeLessThanOrEqual(Math.max(lb[x]!, lb[x + 1] ?? 0));
          expect(lb[x], where).toBeLessThanOrEqual(Math.max(la[x]!, la[x - 1] ?? 0));
        }
      }
      expect(exact.lodSpans).toBe(0);
      lodSpans += lod.lodSpans;
    }
    // Zoomed out, most spans came in buckets (else this test would compare the exact path with itself).
    expect(lodSpans).toBeGreaterThan(spans.count);
  });

  it('starts a range at the first span that can overlap it: a long hold and a lost release are kept', () => {
    // Task A: one long hold (0–50 µs), then 3000 short holds; task B: a hold whose release was lost.
    const events: TraceEvent[] = [
      ev('lock_acquire', 0, 'A/1', { nodeId: 12, ino: 12, mode: 'W' }),
      ev('lock_acquire', 10, 'B/2', { nodeId: 12, ino: 12, mode: 'R' }),
      ev('lock_release', 50_000, 'A/1', { nodeId: 12, ino: 12, mode: 'W' }),
    ];
    for (let i = 0; i < 3000; i++) {
      events.push(ev('lock_acquire', 60_000 + i * 100, 'A/1', { nodeId: 12, ino: 12, mode: 'W' }));
      events.push(ev('lock_release', 60_000 + i * 100 + 50, 'A/1', { nodeId: 12, ino: 12, mode: 'W' }));
    }
    const { locks, spans, store } = derived(events);
    const rowA = locks.rows.find((r) => r.task === 'A/1')!;
    const rowB = locks.rows.find((r) => r.task === 'B/2')!;
    // Brute force: the first span that ends at or after fromNs.
    const brute = (ids: number[], fromNs: number): number => ids.findIndex((id) => (spans.isOpen(id) ? store.endNs : spans.endNs.data[id]!) >= fromNs);
    for (const fromNs of [0, 40_000, 70_000, 300_000]) {
      const pos = rowStartPos(rowA, spans, fromNs);
      expect(pos, `from ${fromNs}`).toBeLessThanOrEqual(brute([...rowA.spanIds.data.subarray(0, rowA.spanIds.length)], fromNs));
      expect(rowStartPos(rowB, spans, fromNs)).toBe(0); // still open: never skipped
    }
    // Far past the long hold (further than the longest span), most of the row is skipped.
    expect(rowStartPos(rowA, spans, 300_000)).toBeGreaterThan(1500);
    // Drawn over a range inside the long hold: it is there; the open hold of B too.
    const m = buildLocksModel(locks, spans, store, 40_000, 45_000, 100);
    expect(m.prims.count).toBeGreaterThanOrEqual(2);
  });
});

describe('locks view: identities and addresses', () => {
  const A = 0xffff88813cd98e98n;
  const B = 0xffff88813cd9ae18n;
  const att = (addr: bigint, body: object): TraceEvent =>
    ev('instant', 0, 'dd/1', { name: 'lock_attribution', text: JSON.stringify({ lockAddr: `0x${addr.toString(16)}`, contended: 1, path: '', ...body }) });
  const events: TraceEvent[] = [
    att(A, { lock: 'i_rwsem', nodeId: 4, ino: null, methods: ['holder_next_event', 'stack', 'syscall_fd'], unknownReason: '' }),
    ev('lock_wait', 1, 'dd/1', { lock: 'i_rwsem', nodeId: 4, ino: 0, lockAddr: A }),
    ev('lock_acquire', 5, 'dd/1', { lock: 'i_rwsem', nodeId: 4, ino: 0, lockAddr: A }),
    att(B, { lock: 'unknown', nodeId: null, ino: null, methods: [], unknownReason: 'no stack, iomap entry or I/O syscall names the lock' }),
    ev('lock_wait', 6, 'dd/2', { lock: 'unknown', nodeId: 0, ino: 0, lockAddr: B }),
    ev('lock_acquire', 9, 'dd/2', { lock: 'unknown', nodeId: 0, ino: 0, lockAddr: B }),
    ev('lock_wait', 10, 'dd/3', { lock: 'unknown', nodeId: 0, ino: 0, lockAddr: 0x1234n }),
  ];
  it('headers say "ino unknown" / "nodeid unknown" (never ino 0) and show the address; unknown locks stay apart by address', () => {
    const { locks } = derived(events);
    expect(lockRows(locks).filter((r) => r.type === 'lock').map((r) => r.label)).toEqual([
      'ino unknown · unknown nodeid unknown · 0xffff88813cd9ae18',
      'ino unknown · unknown nodeid unknown · 0x1234',
      'ino unknown · i_rwsem nodeid 4 · 0xffff88813cd98e98',
    ]);
  });
  it('each lock names its evidence from the import (methods, reason), or none', () => {
    const { locks, aliases } = derived(events);
    expect(lockIdentityRows(locks, aliases).map((r) => [`0x${r.lockAddr.toString(16)}`, r.lock, r.nodeId, r.ino, r.methods, r.unknownReason])).toEqual([
      ['0xffff88813cd9ae18', 'unknown', 0, 0, [], 'no stack, iomap entry or I/O syscall names the lock'],
      ['0x1234', 'unknown', 0, 0, [], ''],
      ['0xffff88813cd98e98', 'i_rwsem', 4, 0, ['holder_next_event', 'stack', 'syscall_fd'], ''],
    ]);
  });
});
