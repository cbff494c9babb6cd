import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { TraceStore } from '../store.ts';
import { summarize } from '../summary.ts';
import { ev } from '../testing/events.ts';
import { importText } from './testing.ts';
import { resolveIdentity } from './identity.ts';
import { asNodeId } from '../ids.ts';

const fixture = (p: string): string => readFileSync(new URL(`../../../fixtures/${p}`, import.meta.url), 'utf8');
const TRACE_TEXT = fixture('real/fuse2fs-hardlink/trace.txt');
const LOG = { name: 'fuse2fs-d.log', text: fixture('real/fuse2fs-hardlink/fuse2fs-d.log'), format: 'fuse-log' as const };

/** The real capture with probe lines (libfuse 2.9 reply uprobes, as a capture would add them) after its line 132. */
function withProbes(...bodies: string[]): { name: string; text: string; format: 'ftrace' } {
  const lines = TRACE_TEXT.split('\n');
  const at = lines.findIndex((l) => l.includes('1831.997957: open64:')) + 1;
  const probes = bodies.map((b, i) => `         fuse2fs-17140   (  17140) [001] DBZff  1831.99796${i}: ${b}`);
  lines.splice(at, 0, ...probes);
  return { name: 'trace.txt', text: lines.join('\n'), format: 'ftrace' };
}

function summaryOf(files: Parameters<typeof importText>[0]) {
  const r = importText(files);
  const store = new TraceStore();
  store.appendAll(r.events);
  return { r, summary: summarize(store) };
}

const GROUP_PATHS = ['/d1/file', '/d2/link'];

describe('inode identity from evidence on the real fuse2fs-hardlink capture', () => {
  it('as captured (no st_ino anywhere): d1/file (4) and d2/link (5) are one group, its number unknown', () => {
    const { summary } = summaryOf([{ name: 'trace.txt', text: TRACE_TEXT, format: 'ftrace' }, LOG]);
    expect(summary.aliasGroups).toEqual([{ ino: null, inoEvidence: [], nodeids: [4, 5], paths: GROUP_PATHS }]);
  });

  it('a fuse_reply_entry probe naming nodeid 5 and ino 14 gives the group ino 14 (and both locks)', () => {
    const { r, summary } = summaryOf([withProbes('fuse_reply_entry: (0x55d0c0a1b2c0) unique=282 nodeid=5 ino=14'), LOG]);
    expect(r.parseDiags).toEqual([]);
    expect(summary.aliasGroups).toEqual([{ ino: 14, inoEvidence: [14], nodeids: [4, 5], paths: GROUP_PATHS }]);
    // d1/file's lock (nodeid 4) gets 14 through the LINK; d2/link's (nodeid 5) from the probe itself.
    expect(summary.locks.map((l) => [l.nodeid, l.ino]).sort()).toEqual([[4, 14], [5, 14]]);
    const byNode = new Map(r.attributions.map((a) => [a.nodeId, a]));
    expect(byNode.get(asNodeId(5))!.methods).toContain('uprobe_reply');
    expect(byNode.get(asNodeId(4))!.methods).toEqual(expect.arrayContaining(['uprobe_reply', 'link']));
  });

  it('a probe without nodeid= joins by unique: GETATTR 286 (nodeid 5 in the log) st_ino=14', () => {
    const { summary } = summaryOf([withProbes('fuse_reply_attr: (0x55d0c0a1b300) unique=286 st_ino=14'), LOG]);
    expect(summary.aliasGroups).toEqual([{ ino: 14, inoEvidence: [14], nodeids: [4, 5], paths: GROUP_PATHS }]);
  });

  it('an entry reply without nodeid= names the new nodeid from the log (LINK 282 → NODEID 5), never the parent 3', () => {
    const { r } = summaryOf([withProbes('fuse_reply_entry: (0x55d0c0a1b2c0) unique=282 ino=0xe'), LOG]);
    const added = r.events.filter((e) => e.kind === 'inode_lookup' && e.ino !== 0);
    expect(added.map((e) => e.kind === 'inode_lookup' && [e.nodeId, e.ino, e.nlookup, e.path])).toEqual([[5, 14, 0, '']]);
  });

  it('two probes that disagree (st_ino 14 for nodeid 4, 15 for nodeid 5): both numbers, no single ino', () => {
    const { summary } = summaryOf([withProbes(
      'fuse_reply_attr: (0x1) unique=284 st_ino=14', 'fuse_reply_attr: (0x1) unique=286 st_ino=15',
    ), LOG]);
    expect(summary.aliasGroups).toEqual([{ ino: null, inoEvidence: [14, 15], nodeids: [4, 5], paths: GROUP_PATHS }]);
  });
});

describe('inode identity from the series INODE prefix', () => {
  const line = (ts: string, nodeid: number, ino: number, pos: number): string =>
    `              dd-2817    [002] .....   ${ts}: fuse_iomap_begin: connection 45 ino ${ino} nodeid ${nodeid} isize 0x0 idisksize 0x0 opflags (write) pos 0x${pos.toString(16)} length 0x1000`;

  it('`ino 14 nodeid 4` and `ino 14 nodeid 5` group nodeids 4 and 5 under ino 14', () => {
    const text = [line('512.000001', 4, 14, 0), line('512.000002', 5, 14, 0x1000), line('512.000003', 2, 13, 0)].join('\n');
    const { summary } = summaryOf([{ name: 's.txt', text, format: 'ftrace' }]);
    expect(summary.aliasGroups).toEqual([{ ino: 14, inoEvidence: [14], nodeids: [4, 5], paths: [] }]);
  });

  it('a series event kept as text (fuse_iomap_buffered_write) is evidence too', () => {
    const text = [
      '              dd-2817    [002] .....   512.000001: fuse_iomap_buffered_write: connection 45 ino 14 nodeid 4 isize 0x0 idisksize 0x0 pos 0x0 length 0x1000',
      line('512.000002', 5, 14, 0),
    ].join('\n');
    const { summary } = summaryOf([{ name: 's.txt', text, format: 'ftrace' }]);
    expect(summary.aliasGroups).toEqual([{ ino: 14, inoEvidence: [14], nodeids: [4, 5], paths: [] }]);
  });
});

describe('resolveIdentity', () => {
  it('one evidence event per (nodeid, ino); unresolvable probes are counted, not guessed', () => {
    const events = [
      ev('iomap_begin', 1, 'a/1', { nodeId: 4, ino: 14 }),
      ev('instant', 2, 's/1', { name: 'fuse_reply_entry', text: '(0x1) unique=9 nodeid=4 ino=14' }), // already known: nothing added
      ev('instant', 3, 's/1', { name: 'fuse_reply_entry', text: '(0x1) unique=10 nodeid=6 ino=20' }),
      ev('instant', 4, 's/1', { name: 'fuse_reply_entry', text: '(0x1) unique=10 nodeid=6 ino=20' }),
      ev('instant', 5, 's/1', { name: 'fuse_reply_attr', text: '(0x1) unique=77 st_ino=21' }), // unique 77 unknown
      ev('fuse_send', 6, 'a/1', { unique: 80, opcode: 1, nodeId: 1 }), // LOOKUP under the root
      ev('instant', 7, 's/1', { name: 'fuse_reply_entry', text: '(0x1) unique=80 ino=22' }), // entry without the log: not the parent
      ev('fuse_send', 8, 'a/1', { unique: 82, opcode: 3, nodeId: 7 }), // GETATTR nodeid 7
      ev('instant', 9, 's/1', { name: 'fuse_reply_attr', text: '(0x1) unique=82 st_ino=23' }),
      ev('instant', 10, 's/1', { name: 'fuse_reply_attr', text: '(0x1) unique=82 st_ino=0' }), // 0: no evidence
    ];
    const r = resolveIdentity(events);
    expect(r.events.filter((e) => e.kind === 'inode_lookup').map((e) => e.kind === 'inode_lookup' && [e.tsNs, e.nodeId, e.ino])).toEqual([
      [3, 6, 20], [9, 7, 23],
    ]);
    expect(r.unresolved).toBe(2);
  });
});
