import { describe, expect, it } from 'vitest';
import { ev } from '../testing/events.ts';
import { attributeLocks } from './lock-attribution.ts';
import type { TraceEvent } from '../schema.ts';

const A = 0xffff888112a4c3d8n;
const begin = (ts: number, task: string, flags = 4): TraceEvent => ev('lock_contention', ts, task, { phase: 'begin', lockAddr: A, lockFlags: flags });
const end = (ts: number, task: string, ret = 0): TraceEvent => ev('lock_contention', ts, task, { phase: 'end', lockAddr: A, lockFlags: 0, ret });
const entry = (ts: number, task: string, nodeid: number): TraceEvent =>
  ev('instant', ts, task, { name: 'fuse_iomap_direct_write', text: `connection 45 ino ${nodeid} nodeid ${nodeid} isize 0x0 idisksize 0x0 pos 0x0 length 0x1000` });

describe('lock attribution', () => {
  it('iomap entry event before a WRITE contention names the i_rwsem and its nodeid; derived wait/acquire follow', () => {
    const r = attributeLocks([entry(0, 'fio/1', 13), begin(1, 'fio/1'), end(5, 'fio/1')]);
    expect(r.attributions).toMatchObject([{ lock: 'i_rwsem', nodeId: 13, ino: 13, methods: ['iomap_entry'], contended: 1 }]);
    expect(r.events.map((e) => e.kind)).toEqual(['instant', 'lock_contention', 'lock_wait', 'lock_contention', 'lock_acquire']);
    expect(r.events[2]).toMatchObject({ lock: 'i_rwsem', mode: 'W', nodeId: 13 });
  });

  it('disagreeing evidence gives an unknown lock with a reason, never a guess', () => {
    const r = attributeLocks([entry(0, 'a/1', 13), begin(1, 'a/1'), end(2, 'a/1'), entry(3, 'b/2', 14), begin(4, 'b/2'), end(5, 'b/2')]);
    expect(r.attributions[0]).toMatchObject({ lock: 'unknown', nodeId: 0 });
    expect(r.attributions[0]!.unknownReason).toMatch(/several nodeids: 13, 14/);
    expect(r.events.filter((e) => e.kind === 'lock_wait').every((e) => e.kind === 'lock_wait' && e.lock === 'unknown')).toBe(true);
  });

  it('no evidence: unknown; per-CPU freeze protection: unknown; interrupted wait: no acquire', () => {
    const r = attributeLocks([begin(1, 'a/1', 32), end(2, 'a/1', -4)]);
    expect(r.attributions[0]).toMatchObject({ lock: 'unknown', unknownReason: expect.stringMatching(/no stack/) });
    expect(r.events.map((e) => e.kind)).toEqual(['lock_contention', 'lock_wait', 'lock_contention']);
    const f = attributeLocks([ev('app_op_begin', 0, 'a/1', { op: 'write', path: '/m/f' }), begin(1, 'a/1', 2 | 16), end(2, 'a/1')]);
    expect(f.attributions[0]!.lock).toBe('unknown');
  });

  it('stack role: down_write under ext4_buffered_write_iter is an i_rwsem; the fd path names the file', () => {
    const stack = ev('instant', 2, 'dd/3', { name: 'stack_trace', text: 'rwsem_down_write_slowpath+0x1\ndown_write+0x2\next4_buffered_write_iter+0x3\nvfs_write' });
    const r = attributeLocks([ev('app_op_begin', 0, 'dd/3', { op: 'write', path: '/mnt/ext4/f' }), begin(1, 'dd/3'), stack, end(3, 'dd/3')]);
    expect(r.attributions[0]).toMatchObject({ lock: 'i_rwsem', nodeId: 0, path: '/mnt/ext4/f', methods: ['stack', 'syscall_fd'], unknownReason: '' });
  });
});
