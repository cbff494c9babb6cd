// Other fuse servers' debug logs (fuse-log.ts dialects): expected values read off each fixture's text.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { importText } from './testing.ts';
import { FuseLogParser, standaloneEvents } from './fuse-log.ts';
import { detectFormat } from './index.ts';
import type { TraceEvent } from '../schema.ts';

const fixture = (p: string): string => readFileSync(new URL(`../../../fixtures/logs/${p}`, import.meta.url), 'utf8');
function parse(text: string): { p: FuseLogParser; evs: TraceEvent[] } {
  const p = new FuseLogParser('l');
  p.push(text);
  p.end();
  return { p, evs: standaloneEvents(p) };
}

describe('go-fuse debug log (real capture)', () => {
  const text = fixture('go-fuse-loopback.log');
  it('is detected and every rx has its tx; errors are -errno', () => {
    expect(detectFormat(text)).toBe('fuse-log');
    const { p } = parse(text);
    expect(p.stats.headers).toBe(53);
    expect(p.order.filter((r) => r.error === null).map((r) => r.opName)).toEqual([]);
    // tx 16: "2=no such file or directory"; tx 32: "61=no data available"
    expect(p.requests.get(16)).toMatchObject({ opName: 'LOOKUP', opcode: 1, nodeId: 1, error: -2 });
    expect(p.requests.get(32)).toMatchObject({ opName: 'GETXATTR', opcode: 22, nodeId: 5, error: -61 });
  });
  it('entry replies give nodeid and st_ino; LINK keeps one nodeid with both paths', () => {
    const { p, evs } = parse(text);
    // rx 28: CREATE n2 … ["file"] → tx 28: {n5 … i0:3039872}; MKDIR n1 ["d1"] answered n2 before it.
    expect(p.requests.get(28)).toMatchObject({ opcode: 35, entryNodeId: 5, replyIno: 3039872, paths: ['/d1/file'] });
    // rx 52: LINK n3 {Oldnodeid: n5} ["link"] → tx 52: {n5 … i0:3039872}
    expect(p.requests.get(52)).toMatchObject({ opcode: 13, nodeId: 3, entryNodeId: 5, replyIno: 3039872, paths: ['/d1/file', '/d2/link'] });
    const looks = evs.filter((e) => e.kind === 'inode_lookup' && e.nodeId === 5);
    expect(looks.every((e) => e.kind === 'inode_lookup' && e.ino === 3039872)).toBe(true);
    expect(new Set(looks.map((e) => e.kind === 'inode_lookup' && e.path))).toEqual(new Set(['/d1/file', '/d2/link']));
    // the epoll hack's nodeid 2^64-1 cannot be a float: unknown (0), and gives no inode events
    expect(p.requests.get(6)).toMatchObject({ opName: 'OPEN', nodeId: 0 });
  });
  it('Go log lines that are no request (fusermount, ENODEV) are kept as log_line instants and counted', () => {
    const { p, evs } = parse(text);
    expect(p.stats.otherLines).toBe(5);
    expect(p.firstOtherLine).toBe(7);
    const ll = evs.filter((e) => e.kind === 'instant' && e.name === 'log_line');
    expect(ll).toHaveLength(5);
    expect(ll[0]).toMatchObject({ text: expect.stringMatching(/^L7: .*callFusermount/) });
  });
});

describe('libfuse 3 -d log (real capture: bindfs on libfuse 3.14)', () => {
  it('all 52 requests replied, LINK NODEID 5 is an alias of d1/file, no diagnostics', () => {
    const text = fixture('bindfs-libfuse3.log');
    expect(detectFormat(text)).toBe('fuse-log');
    const r = importText([{ name: 'b.log', text, format: 'fuse-log' }]);
    expect(r.parseDiags).toEqual([]);
    expect(r.events.filter((e) => e.kind === 'fuse_send')).toHaveLength(52);
    expect(r.events.filter((e) => e.kind === 'fuse_reply')).toHaveLength(52);
    const link = r.events.find((e) => e.kind === 'inode_new' && e.nodeId === 5);
    expect(link).toMatchObject({ path: '/d2/link', aliasOf: 4, ino: 0 });
  });
});

describe('jacobsa/fuse debug log (hand-written from connection.go/debug.go)', () => {
  it('unique from the hex op id, opcodes from op names, errors from Go errno text, inode N = nodeid and st_ino', () => {
    const text = fixture('jacobsa-memfs.log');
    expect(detectFormat(text)).toBe('fuse-log');
    const { p, evs } = parse(text);
    expect(p.order.map((q) => [q.unique, q.opcode, q.nodeId, q.pid, q.error])).toEqual([
      [2, 26, 0, 0, 0], [4, 1, 1, 300, -2], [6, 9, 1, 300, 0], [8, 35, 2, 301, 0], [10, 16, 3, 301, 0], [12, 13, 2, 302, 0], [14, 22, 3, 302, -5],
    ]);
    expect(p.requests.get(8)).toMatchObject({ entryNodeId: 3, replyIno: 3, paths: ['/d1/file'] });
    expect(evs.filter((e) => e.kind === 'inode_lookup').map((e) => e.kind === 'inode_lookup' && [e.nodeId, e.ino, e.path]))
      .toEqual([[2, 2, '/d1'], [3, 3, '/d1/file'], [3, 3, '/d1/link']]);
    expect(p.stats.otherLines).toBe(1);
    // the last op fails with a text that is no errno: EIO, and a diagnostic at its line
    expect(p.requests.get(14)).toMatchObject({ opName: 'GETXATTR', error: -5 });
    expect(p.diags.first.map((d) => [d.line, d.code])).toEqual([[20, 'unknown_errno']]);
    expect(evs.find((e) => e.kind === 'instant')).toMatchObject({ name: 'log_line', text: 'L14: some unrelated output of the server' });
  });
});

describe('libfuse variants and fuse4fs debug lines (hand-written)', () => {
  it('dev-prefixed header, (splice) reply, 2.6-style error: 0 (Success), header without pid; fuse4fs line as instant on its thread', () => {
    const text = fixture('fuse4fs-dbg.log');
    expect(detectFormat(text)).toBe('fuse-log');
    const r = importText([{ name: 'f.log', text, format: 'fuse-log' }]);
    expect(r.parseDiags).toEqual([]);
    const replies = r.events.filter((e) => e.kind === 'fuse_reply').map((e) => e.kind === 'fuse_reply' && [e.unique, e.opcode, e.error, e.lenBytes]);
    expect(replies).toEqual([[10, 4094, 0, 144], [12, 3, 0, 120], [14, 1, 0, 144], [16, 15, -5, 16]]);
    const sends = r.events.filter((e) => e.kind === 'fuse_send').map((e) => e.kind === 'fuse_send' && [e.unique, e.nodeId, e.lenBytes, e.task]);
    // Alone, a log has no times: its events keep their threads, marked untimed (untimed.ts).
    expect(sends).toEqual([[10, 12, 80, '(no time) pid/500'], [12, 12, 56, '(no time) pid/500'], [14, 1, 44, '(no time) pid/500'], [16, 12, 80, '(no time) pid/0']]);
    const dbg = r.events.find((e) => e.kind === 'instant' && e.name === 'fuse4fs:op_iomap_begin');
    expect(dbg).toMatchObject({ task: '(no time) fuse4fs/501', text: 'ino=12 pos=0x0 count=0x10000 opflags=0x1' });
    const other = r.events.filter((e) => e.kind === 'instant' && e.name === 'log_line');
    expect(other.map((e) => e.kind === 'instant' && e.text)).toEqual(['L9: mke2fs said hello']);
    // an older fuse2fs line without tid=: the log's server task
    expect(r.events.find((e) => e.kind === 'instant' && e.name === 'fuse2fs:op_getattr')).toMatchObject({ task: '(no time) fuse-server/0', text: 'path=/d1' });
  });
});

describe('a server log joined with a kernel trace', () => {
  it('requests join by unique; a fuse4fs debug line is placed after the request before it, its time unknown', () => {
    const trace = [
      '              dd-500   [000] .....   10.000100: fuse_request_send: connection 38 req 10 opcode 4094 (FUSE_IOMAP_BEGIN) len 80',
      '         fuse4fs-501   [001] .....   10.000300: fuse_request_end: connection 38 req 10 len 144 error 0',
      '',
    ].join('\n');
    const r = importText([{ name: 't.txt', text: trace, format: 'ftrace' }, { name: 'f.log', text: fixture('fuse4fs-dbg.log'), format: 'fuse-log' }]);
    expect(r.joins[0]).toMatchObject({ matched: 1, kernelOnly: 0, logOnly: 3 });
    const send = r.events.find((e) => e.kind === 'fuse_send');
    expect(send).toMatchObject({ unique: 10, nodeId: 12 });
    const dbg = r.events.find((e) => e.kind === 'instant' && e.name === 'fuse4fs:op_iomap_begin')!;
    // header of unique 10 (line 6) comes before the dbg line (line 7); its reply is at 10.000300, 200 µs after the send
    const reply = r.events.find((e) => e.kind === 'fuse_reply')!;
    expect(dbg.tsNs - reply.tsNs).toBe(0);
    expect(reply.tsNs - send!.tsNs).toBe(200_000);
    // Placed, not timed: the log does not say when it was printed (on its thread, marked untimed).
    expect(dbg.task).toBe('(no time) fuse4fs/501');
    expect(reply.task).toBe('fuse4fs/501');
  });
});
