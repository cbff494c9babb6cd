import { describe, expect, it } from 'vitest';
import { TraceStore } from '../../trace/store.ts';
import { SpanIndex } from '../../trace/spans.ts';
import { MapType, Opcode, OpFlag } from '../../trace/fuse-proto.ts';
import { formatField, inspectorSections, lockIdentitySection, rowSections, spanTooltip } from './describe.ts';
import { ev, typed } from '../../trace/testing/events.ts';
import { derived } from '../testing-fixtures.ts';

describe('inspector text', () => {
  it('pretty-prints flags, opcodes, map types and addresses', () => {
    expect(formatField('opflags', OpFlag.WRITE | OpFlag.DIRECT)).toBe('write|direct (0x11)');
    expect(formatField('opcode', Opcode.IOMAP_BEGIN)).toBe('FUSE_IOMAP_BEGIN (4094)');
    expect(formatField('mapType', MapType.UNWRITTEN)).toBe('unwritten (3)');
    expect(formatField('mapAddr', 0xffff_ffff_ffff_ffffn)).toBe('0xffffffffffffffff');
  });

  it('an untimed event (pasted line without time): its tsNs and its span\'s duration say unknown, not the synthetic µs', () => {
    const store = new TraceStore();
    const task = 'task unknown';
    store.appendAll(typed([
      { kind: 'fuse_send', tsNs: 0, task, unique: 8, opcode: Opcode.WRITE, nodeId: 0, lenBytes: 4176 },
      { kind: 'fuse_reply', tsNs: 1000, task, unique: 8, opcode: Opcode.WRITE, error: 0, lenBytes: 24 },
    ]));
    const spans = new SpanIndex();
    spans.update(store);
    const rows = inspectorSections(store, spans, 0).flatMap((s) => s.rows);
    const value = (f: string) => rows.find((r) => r.field === f)?.value;
    expect(value('durNs')).toMatch(/^time unknown \(pasted lines without times\)/);
    expect(value('tsNs')).toMatch(/^unknown: a pasted line without time/);
    expect(value('end.tsNs')).toMatch(/^unknown/);
    expect(spanTooltip(store, spans, 0).lines.find(([k]) => k === 'duration')?.[1]).toMatch(/^time unknown/);
    expect(rowSections(store, 1)[0]!.rows.find((r) => r.field === 'tsNs')?.value).toMatch(/^unknown/);
  });

  it('lists begin, mapping and end fields with unique names', () => {
    const store = new TraceStore();
    const task = 'dd/1';
    store.appendAll(typed([
      { kind: 'iomap_begin', tsNs: 10, task, nodeId: 7, ino: 12, opflags: OpFlag.WRITE, posBytes: 0, lenBytes: 4096, fsDev: 0 },
      { kind: 'iomap_map', tsNs: 20, task, nodeId: 7, ino: 12, slot: 'write', source: 'reply', mapType: MapType.MAPPED,
        mapFlags: 0, mapOffsetBytes: 0, mapLenBytes: 4096, mapAddr: 0x10000n, mapDev: 0, cookie: 3, rawType: '' },
      { kind: 'iomap_iter_end', tsNs: 30, task, nodeId: 7, ino: 12, posBytes: 0, lenBytes: 4096, processedBytes: 4096, error: 0 },
    ]));
    const spans = new SpanIndex();
    spans.update(store);
    const fields = inspectorSections(store, spans, 0).flatMap((s) => s.rows.map((r) => r.field));
    expect(new Set(fields).size).toBe(fields.length);
    expect(fields).toEqual(expect.arrayContaining(['kind', 'opflags', 'mapType', 'mapAddr', 'end.tsNs', 'processedBytes']));
    const rows = Object.fromEntries(inspectorSections(store, spans, 0).flatMap((s) => s.rows.map((r) => [r.field, r.value])));
    expect(rows.mapAddr).toBe('0x10000');
    expect(rows.opflags).toBe('write (0x1)');
    expect(spanTooltip(store, spans, 0).title).toBe('iomap write:mapped');
  });

  it('a kernel filesystem step names its device and inode; an xfs_ilock hold reads "requested → released"', () => {
    const store = new TraceStore();
    const task = 'dd/9';
    // ext4 on loop0 (dev_t 7 << 20), ino 0xc; then an XFS IOLOCK request and release on ino 0x83.
    store.appendAll(typed([
      { kind: 'iomap_begin', tsNs: 10, task, nodeId: 0, ino: 0xc, opflags: OpFlag.WRITE | OpFlag.DIRECT, posBytes: 0, lenBytes: 0x10000, fsDev: 7 << 20 },
      { kind: 'iomap_iter_end', tsNs: 30, task, nodeId: 0, ino: 0xc, posBytes: 0, lenBytes: 0x10000, processedBytes: 0x10000, error: 0 },
      { kind: 'lock_acquire', tsNs: 40, task, lock: 'i_rwsem', mode: 'W', nodeId: 0, ino: 0x83, lockAddr: 0n },
      { kind: 'lock_release', tsNs: 50, task, lock: 'i_rwsem', mode: 'W', nodeId: 0, ino: 0x83, lockAddr: 0n },
    ]));
    const spans = new SpanIndex();
    spans.update(store);
    expect(formatField('fsDev', 7 << 20)).toBe('7:0');
    expect(formatField('fsDev', 0)).toBe('unknown');
    expect(spanTooltip(store, spans, 0).lines).toContainEqual(['inode', 'dev 7:0 ino 0xc']);
    const rows = Object.fromEntries(inspectorSections(store, spans, 0).flatMap((s) => s.rows.map((r) => [r.field, r.value])));
    expect(rows.inode).toBe('dev 7:0 ino 0xc (kernel filesystem)');
    expect(rows.fsDev).toBe('7:0');
    // Drawn on its inode's lane, the step still names the task that ran it.
    expect(rows.lane).toBe('dev 7:0 ino 0xc');
    expect(rows.task).toBe('dd/9');
    expect(spanTooltip(store, spans, 0).lines).toContainEqual(['task', 'dd/9']);
    expect(spanTooltip(store, spans, 1).title).toBe('requested → released i_rwsem W');
    const lockRows = Object.fromEntries(inspectorSections(store, spans, 1).flatMap((s) => s.rows.map((r) => [r.field, r.value])));
    expect(lockRows.from).toMatch(/^requested at/);
    expect(lockRows.to).toBe('released at');
  });

  it('unknown identities read "unknown" / "not traced", never 0', () => {
    expect(formatField('ino', 0)).toBe('unknown');
    expect(formatField('ino', 14)).toBe('14');
    expect(formatField('nodeId', 0)).toBe('unknown');
    expect(formatField('lockAddr', 0n)).toBe('not traced');
    expect(formatField('lockAddr', 0xffff88813cd98e98n)).toBe('0xffff88813cd98e98');
    expect(formatField('aliasOf', 4)).toBe('nodeid 4 (same inode: LINK)');
    const { store } = derived([ev('inode_lookup', 1, 's/1', { nodeId: 5, ino: 14, path: '', nlookup: 0 })]);
    expect(rowSections(store, 0)[0]!.rows.find((r) => r.field === 'nlookup')!.value).toBe('not counted (identity evidence)');
  });

  it('a lock event shows its address and the attribution\'s evidence', () => {
    const text = JSON.stringify({ lockAddr: '0xffff88813cd9ae18', lock: 'i_rwsem', nodeId: 5, ino: null, path: '/mnt/d2/link', methods: ['stack', 'syscall_fd'], contended: 2, unknownReason: '' });
    const { store, aliases } = derived([
      ev('instant', 0, 'dd/2', { name: 'lock_attribution', text }),
      ev('lock_wait', 1, 'dd/2', { lock: 'i_rwsem', nodeId: 5, ino: 0, lockAddr: 0xffff88813cd9ae18n }),
      ev('lock_wait', 2, 'sim/1', { lockAddr: 0n }),
    ]);
    expect(lockIdentitySection(store, 1, aliases.lockEvidence)!.rows).toEqual([
      { field: 'lock.address', value: '0xffff88813cd9ae18' },
      { field: 'lock.attributed', value: 'i_rwsem, nodeid 5, ino unknown, /mnt/d2/link' },
      { field: 'lock.evidence', value: "stack role, in-flight syscall's fd → path" },
    ]);
    expect(lockIdentitySection(store, 2, aliases.lockEvidence)!.rows[0]).toEqual({ field: 'lock.address', value: 'not traced' });
    expect(lockIdentitySection(store, 0, aliases.lockEvidence)).toBeNull();
  });
});
