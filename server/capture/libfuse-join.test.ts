// The live libfuse join on hand-made streams in the order a real capture delivers them (the kernel's
// send, then the server's header probe, then its reply probe and the kernel's end).
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { asIno, asNodeId, asTaskId } from '../../src/trace/ids.ts';
import { FuseLogParser } from '../../src/trace/import/fuse-log.ts';
import { LibfuseJoin } from './libfuse-join.ts';

// The server is this test process (its thread ids are under /proc/<pid>/task); 2^22+1 is no task here.
const SERVER = asTaskId(`fuse2fs/${process.pid}`);
const OTHER = asTaskId(`fuse2fs/${2 ** 22 + 1}`);
const CLIENT = asTaskId('ln/77');
const LOOKUP = 1;
const LINK = 13;
const GETATTR = 3;

const send = (tsNs: number, unique: number, opcode: number): TraceEvent => ({ kind: 'fuse_send', tsNs, task: CLIENT, unique, opcode, nodeId: asNodeId(0), lenBytes: 40 });
const reply = (tsNs: number, unique: number, opcode: number): TraceEvent => ({ kind: 'fuse_reply', tsNs, task: SERVER, unique, opcode, error: 0, lenBytes: 16 });
/** The probe's instant and the fuse_recv the ftrace parser makes of it. */
const recv = (tsNs: number, unique: number, opcode: number, nodeid: number, task = SERVER): TraceEvent[] => [
  { kind: 'instant', tsNs, task, name: 'libfuse_recv', text: `(0x7f00) unique=${unique} opcode=${opcode} nodeid=${nodeid} pid=77 bufflags=0` },
  { kind: 'fuse_recv', tsNs, task, unique, opcode, nodeId: asNodeId(nodeid) },
];
const probe = (tsNs: number, name: string, text: string, task = SERVER): TraceEvent => ({ kind: 'instant', tsNs, task, name, text });

function run(j: LibfuseJoin, evs: TraceEvent[]): { out: TraceEvent[]; afterEach: number[] } {
  const out: TraceEvent[] = [];
  const afterEach: number[] = [];
  for (const e of evs) {
    j.push(e, out);
    afterEach.push(out.length);
  }
  j.end(out);
  return { out, afterEach };
}

describe('LibfuseJoin', () => {
  it('holds a kernel send until the server\'s header names its nodeid, then lets it out first, in order', () => {
    const j = new LibfuseJoin(process.pid);
    const evs = [send(10, 26, GETATTR), ...recv(20, 26, GETATTR, 4), reply(30, 26, GETATTR)];
    const { out, afterEach } = run(j, evs);
    expect(afterEach[0]).toBe(0); // the send is held: its nodeid is not known yet
    expect(out.map((e) => e.kind)).toEqual(['fuse_send', 'instant', 'fuse_recv', 'fuse_reply']);
    expect(out[0]).toMatchObject({ kind: 'fuse_send', unique: 26, nodeId: 4 });
    expect(j.counts.joined).toBe(1);
  });

  it('a send that ends without a header keeps nodeid 0 (unknown) and is counted; an opcode disagreement is not joined', () => {
    const j = new LibfuseJoin(process.pid);
    const { out } = run(j, [send(10, 8, LOOKUP), reply(20, 8, LOOKUP), send(30, 10, LOOKUP), ...recv(40, 10, GETATTR, 9), reply(50, 10, LOOKUP)]);
    const sends = out.filter((e) => e.kind === 'fuse_send');
    expect(sends.map((e) => e.nodeId)).toEqual([0, 0]);
    expect(j.counts).toMatchObject({ joined: 0, unjoined: 1, mismatched: 1 });
    expect(out.some((e) => e.kind === 'diag' && e.code === 'join_mismatch')).toBe(true);
  });

  it('entry and attr replies give (nodeid, st_ino) once each; the attr reply takes its request\'s nodeid', () => {
    const j = new LibfuseJoin(process.pid);
    const { out } = run(j, [
      send(10, 28, LINK), ...recv(20, 28, LINK, 3), probe(25, 'libfuse_reply_entry', '(0x7f01) unique=28 nodeid=5 ino=14 nlink=2'), reply(30, 28, LINK),
      send(40, 30, GETATTR), ...recv(50, 30, GETATTR, 4), probe(55, 'libfuse_reply_attr', '(0x7f02) unique=30 st_ino=14 nlink=2'), reply(60, 30, GETATTR),
      send(70, 32, GETATTR), ...recv(80, 32, GETATTR, 4), probe(85, 'libfuse_reply_attr', '(0x7f02) unique=32 st_ino=14 nlink=2'), reply(90, 32, GETATTR),
    ]);
    const ids = out.filter((e) => e.kind === 'inode_lookup');
    expect(ids).toEqual([
      { kind: 'inode_lookup', tsNs: 25, task: SERVER, nodeId: asNodeId(5), ino: asIno(14), path: '', nlookup: 0, aliasOf: asNodeId(0) },
      { kind: 'inode_lookup', tsNs: 55, task: SERVER, nodeId: asNodeId(4), ino: asIno(14), path: '', nlookup: 0, aliasOf: asNodeId(0) },
    ]);
    expect(out.filter((e) => e.kind === 'fuse_send').map((e) => e.nodeId)).toEqual([3, 4, 4]);
  });

  it('a request the server received spliced (header in a pipe: only libfuse_recv_fd fires) stays without nodeid and is counted as spliced', () => {
    const j = new LibfuseJoin(process.pid);
    const WRITE = 16;
    const { out } = run(j, [
      send(10, 40, WRITE), probe(11, 'libfuse_recv_fd', '(0x7f00) bufflags=2 size=65616'), reply(20, 40, WRITE),
      send(30, 42, GETATTR), ...recv(31, 42, GETATTR, 4), reply(40, 42, GETATTR),
    ]);
    expect(out.filter((e) => e.kind === 'fuse_send').map((e) => [e.unique, e.nodeId])).toEqual([[40, 0], [42, 4]]);
    expect(out.filter((e) => e.kind === 'fuse_recv')).toHaveLength(1);
    expect(j.counts).toMatchObject({ joined: 1, unjoined: 1, spliced: 1 });
  });

  it('probe hits from another process mapping the library are dropped, recv included', () => {
    const j = new LibfuseJoin(process.pid);
    const { out } = run(j, [send(10, 4, LOOKUP), ...recv(15, 4, LOOKUP, 99, OTHER), ...recv(20, 4, LOOKUP, 2), reply(30, 4, LOOKUP)]);
    expect(out.filter((e) => e.kind === 'fuse_send').map((e) => e.nodeId)).toEqual([2]);
    expect(out.some((e) => e.task === OTHER)).toBe(false);
    expect(j.counts.otherProcesses).toBe(1);
  });

  it('a thread the trace places in the server\'s process counts even once gone from /proc; a row naming another process (a stale tgid) does not drop a server thread\'s hits', () => {
    const GONE = asTaskId(`fuse2fs/${2 ** 22 + 2}`); // no such task under /proc: a worker thread that has exited
    const row = (task: typeof SERVER, tgid: number): TraceEvent => ({ kind: 'task_process', tsNs: 1, task, tgid });
    const j = new LibfuseJoin(process.pid);
    const { out } = run(j, [
      row(GONE, process.pid), send(10, 4, LOOKUP), ...recv(15, 4, LOOKUP, 2, GONE), reply(20, 4, LOOKUP),
      // The kernel's table still held an older task with this thread's tid, its own process.
      row(SERVER, 2 ** 22 + 3), send(30, 6, GETATTR), ...recv(35, 6, GETATTR, 5), reply(40, 6, GETATTR),
    ]);
    expect(out.filter((e) => e.kind === 'fuse_send').map((e) => [e.unique, e.nodeId])).toEqual([[4, 2], [6, 5]]);
    expect(j.counts).toMatchObject({ joined: 2, otherProcesses: 0 });
  });

  it('joins the -d log at the kernel\'s reply: the LINK\'s new name, nodeid and alias; a reply waits for log lines that come late', () => {
    const log = new FuseLogParser('fuse2fs -d');
    const j = new LibfuseJoin(process.pid, log);
    log.push('unique: 6, opcode: CREATE (35), nodeid: 2, insize: 58, pid: 77\ncreate flags: 0x8241 /d1/f 0100644 umask=0022\n   create[0] flags: 0x8241 /d1/f\n   NODEID: 4\n   unique: 6, success, outsize: 160\n');
    const out: TraceEvent[] = [];
    for (const e of [send(10, 6, 35), ...recv(11, 6, 35, 2), reply(12, 6, 35), send(20, 8, LINK), ...recv(21, 8, LINK, 3), reply(22, 8, LINK)]) j.push(e, out);
    // The LINK's log lines have not arrived: its reply (and what follows) is held.
    expect(out.some((e) => e.kind === 'fuse_reply' && e.unique === 8)).toBe(false);
    log.push('unique: 8, opcode: LINK (13), nodeid: 3, insize: 50, pid: 77\nlink /d1/f /d2/l\n   NODEID: 5\n   unique: 8, success, outsize: 144\n');
    j.tick(out);
    j.end(out);
    const lookups = out.filter((e) => e.kind === 'inode_lookup');
    expect(lookups.map((e) => [e.nodeId, e.path, e.aliasOf, e.tsNs])).toEqual([[4, '/d1/f', 0, 12], [5, '/d2/l', 4, 22]]);
    expect(j.counts).toMatchObject({ logJoined: 2, logLate: 0 });
  });

  it('a reply whose send was not traced (opcode 0: fuse_request_end names none) joins its -d log entry; a known other opcode is a mismatch', () => {
    const log = new FuseLogParser('fuse2fs -d');
    const j = new LibfuseJoin(process.pid, log);
    // unique 80: the capture's own stat(2) of /a (its send filtered out by pid), answered by the server.
    log.push('unique: 80, opcode: LOOKUP (1), nodeid: 1, insize: 42, pid: 77\nLOOKUP /a\ngetattr /a\n   NODEID: 2\n   unique: 80, success, outsize: 144\n');
    log.push('unique: 82, opcode: LOOKUP (1), nodeid: 1, insize: 42, pid: 77\nLOOKUP /b\ngetattr /b\n   NODEID: 3\n   unique: 82, success, outsize: 144\n');
    const { out } = run(j, [reply(10, 80, 0), reply(20, 82, GETATTR)]);
    expect(out.filter((e) => e.kind === 'inode_lookup').map((e) => [e.nodeId, e.path, e.tsNs])).toEqual([[2, '/a', 10]]);
    expect(j.counts).toMatchObject({ logJoined: 1, mismatched: 1 });
  });
});
