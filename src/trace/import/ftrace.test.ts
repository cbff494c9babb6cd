import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { FtraceParser } from './ftrace.ts';
import { importText, normalize } from './testing.ts';
import type { TraceEvent } from '../schema.ts';
import { MapType, NULL_ADDR, OpFlag } from '../fuse-proto.ts';

const fixture = (p: string): string => readFileSync(new URL(`../../../fixtures/${p}`, import.meta.url), 'utf8');
function parse(name: string, text: string, chunk = Infinity): { events: TraceEvent[]; diags: string[]; origin: bigint | null } {
  const r = importText([{ name, text, format: 'ftrace' }], chunk);
  return { events: r.raw[0]!, diags: r.parseDiags, origin: null };
}
function only<K extends TraceEvent['kind']>(events: TraceEvent[], kind: K): Array<Extract<TraceEvent, { kind: K }>> {
  return events.filter((e) => e.kind === kind) as Array<Extract<TraceEvent, { kind: K }>>;
}

describe('ftrace importer: synthetic fixtures', () => {
  for (const file of ['ftrace/series-v7.txt', 'ftrace/trace-cmd-report.txt', 'ftrace/odd-columns.txt']) {
    it(`${file}: snapshot, no diagnostics, same result with 7-byte chunks`, () => {
      const text = fixture(file);
      const whole = parse(file, text);
      expect(whole.diags).toEqual([]);
      expect(normalize(whole.events)).toMatchSnapshot();
      expect(normalize(parse(file, text, 7).events)).toEqual(normalize(whole.events));
      expect(normalize(parse(file, text, 1).events)).toEqual(normalize(whole.events));
    });
  }

  it('maps the series tracepoints field by field (positional: repeated keys)', () => {
    const { events } = parse('s', fixture('ftrace/series-v7.txt'));
    const begin = only(events, 'iomap_begin')[0]!;
    expect(begin).toMatchObject({ tsNs: 7000, task: 'dd/2817', nodeId: 12, ino: 12, opflags: OpFlag.WRITE, posBytes: 0, lenBytes: 0x100000 });
    const maps = only(events, 'iomap_map');
    // ino 12 is a fuse-iomap inode (its fuse_iomap_begin came first): the upstream iomap_iter_dstmap
    // repeats the reply's mapping, so it is an fs_op, not a third mapping row.
    // …and fio/3001's cache hit is its step's mapping (source cache, the `map…` part, the cookie).
    expect(maps.map((m) => [m.slot, m.mapType, m.source])).toEqual([['read', MapType.UNWRITTEN, 'reply'], ['write', MapType.PURE_OVERWRITE, 'reply'], ['read', MapType.MAPPED, 'cache']]);
    expect(maps[2]).toMatchObject({ task: 'fio/3001', mapOffsetBytes: 0x3000, mapLenBytes: 0x1000, mapAddr: 0x20003000n, mapDev: 1, cookie: 0x2a });
    expect(maps[0]).toMatchObject({ mapAddr: 0x8400000n, mapDev: 1, mapFlags: 2, source: 'reply' });
    expect(maps[1]!.mapAddr).toBe(NULL_ADDR);
    const end = only(events, 'iomap_end')[0]!;
    expect(end).toMatchObject({ lenBytes: 0x100000, writtenBytes: 1048576, mapLenBytes: 0x100000, mapFlags: 2 | 128 });
    const [ioend1, ioend2] = only(events, 'iomap_ioend');
    expect(ioend1).toMatchObject({ sent: true, ioendFlags: 2 | 16 | 32, newAddr: 0x42000n, newSizeBytes: 0x100000 });
    expect(ioend2).toMatchObject({ sent: false, newSizeBytes: 0x2000 });
    const lookups = only(events, 'cache_lookup');
    expect(lookups.map((l) => [l.fork, l.hit])).toEqual([['write', false], ['read', false], ['read', true]]);
    expect(lookups[2]).toMatchObject({ cookie: 0x2a, mapOffsetBytes: 0x3000, mapLenBytes: 0x1000, mapAddr: 0x20003000n });
    expect(only(events, 'cache_upsert')).toHaveLength(1); // write fork NOCACHE is skipped
    expect(only(events, 'cache_inval')).toMatchObject([{ fork: 'read', lenBytes: 0x2000 }]);
    expect(only(events, 'cache_stale')[0]).toMatchObject({ oldCookie: 0x2a, newCookie: 0x2b, mapType: MapType.UNWRITTEN });
    expect(only(events, 'iomap_bad_data')[0]).toMatchObject({ error: -117, message: 'func fuse_iomap_validate line 412 condition iomap->offset > pos' });
    const stack = only(events, 'instant').find((e) => e.name === 'stack_trace')!;
    expect(stack.text.split('\n')).toHaveLength(5);
    // ` => down_write+0x3b/0x50` (sym-offset): lock attribution's contract is the bare symbol.
    expect(stack.text.split('\n')[2]).toBe('down_write');
    expect(only(events, 'fuse_reply').map((r) => r.opcode)).toEqual([4094, 4095, 4093]);
    // begin_error closes the step with its err; the write-fork lookup before the read-fork one found no write fork.
    expect(only(events, 'iomap_iter_end')).toMatchObject([{ nodeId: 13, posBytes: 0x5000, lenBytes: 0x1000, processedBytes: 0, error: -117 }]);
    expect(lookups.map((l) => l.forkAbsent)).toEqual([true, false, false]);
    expect(only(events, 'iomap_bad_data')[0]).toMatchObject({ nodeId: 13, ino: 13 });
    expect(only(events, 'fuse_notify').map((n) => [n.notifyCode, n.nodeId, n.error])).toEqual([[100, 13, 0], [101, 13, 0]]);
    expect(only(events, 'fs_op').map((o) => [o.name, o.posBytes, o.lenBytes])).toEqual([
      ['iomap_buffered_write', 0, 0x100000], ['iomap_iter_dstmap', 0, 0x100000], ['iomap_end_ioend', 0, 0x100000], ['iomap_end_ioend', 0x1000, 0x1000], ['iomap_direct_write', 0x5000, 0x1000],
    ]);
    expect(only(events, 'iomap_begin').map((b) => b.fsDev)).toEqual([45, 45]);
    // Only upstream/other lines stay instants.
    expect(only(events, 'instant').map((e) => e.name)).toEqual(['iomap_iter', 'stack_trace', 'tracing_mark_write']);
  });

  it('trace-cmd report: headers skipped, req 0 paired in order, syscalls, lost events, 9-digit stamps', () => {
    const { events } = parse('t', fixture('ftrace/trace-cmd-report.txt'));
    const sends = only(events, 'fuse_send');
    expect(sends.map((s) => [s.unique, s.opcode])).toEqual([[6, 16], [8, 1], [10, 4099]]);
    expect(only(events, 'fuse_reply').map((r) => [r.unique, r.opcode, r.error])).toEqual([[6, 16, 0], [8, 1, -2]]);
    expect(only(events, 'gap')[0]!.missedEvents).toBe(17);
    expect(events[0]!.tsNs).toBe(0);
    expect(only(events, 'lock_contention').map((l) => [l.phase, l.lockAddr, l.lockFlags, l.ret])).toEqual([
      ['begin', 0xffff888112a4c3d8n, 4, 0], ['begin', 0xffff888112a4c3d8n, 2, 0], ['end', 0xffff888112a4c3d8n, 0, 0], ['end', 0xffff888112a4c3d8n, 0, -4],
    ]);
    const pw = only(events, 'app_op_begin').find((e) => e.op === 'pwrite')!;
    expect(pw).toMatchObject({ fd: 5, posBytes: 0x5000, lenBytes: 0x1000, oflags: 0x4002, tsNs: 899 });
  });

  it('header variants: TGID, unknown TGID, 4-char flags, no flags, comm with spaces, raw ns, CRLF', () => {
    const p = new FtraceParser('o', () => {});
    const { events: all } = parse('o', fixture('ftrace/odd-columns.txt'));
    void p;
    // `(     70)`: my-worker's process is 70, said once before its first event; `(-------)` and no column: unknown.
    expect(all.filter((e) => e.kind === 'task_process').map((e) => [e.task, e.tsNs, (e as { tgid: number }).tgid])).toEqual([['my-worker 1/77', 0, 70]]);
    expect(all[0]!.kind).toBe('task_process');
    const events = all.filter((e) => e.kind !== 'task_process');
    expect(events.map((e) => e.task)).toEqual(['my-worker 1/77', '<idle>/0', 'kworker/u33:2/211', 'sh/99', 'sh/99', 'sh/99', 'sh/99']);
    expect(events.map((e) => e.tsNs)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000]);
    expect(only(events, 'app_op_end').map((e) => e.ret)).toEqual([12, -25]);
    expect(only(events, 'app_op_begin')[1]).toMatchObject({ op: 'fallocate', fd: 18, posBytes: 4096, lenBytes: 4096 });
    expect(only(events, 'instant')[0]).toMatchObject({ name: 'tracing_mark_write', text: 'hello, world' });
  });

  it('originNs is the absolute time of the first event; tsNs never goes through absolute floats', () => {
    let parser!: FtraceParser;
    const out: TraceEvent[] = [];
    parser = new FtraceParser('x', (e) => out.push(e));
    parser.push('  a-1 [000] ..... 9999999.000001: x: y\n  a-1 [000] ..... 9999999.000002: x: y\n');
    parser.end();
    expect(parser.originNs).toBe(9999999000001000n);
    expect(out.map((e) => e.tsNs)).toEqual([0, 1000]);
  });

  it('bad lines become diags with file:line:col, good lines around them still import', () => {
    const text = [
      '  a-1 [000] ..... 1.000001: x: y',
      'garbage line here',
      '  a-1 [000] ..... 1.000002: fuse_request_send: connection 1 req zz opcode 1 (FUSE_LOOKUP) len 3',
      ' => orphan_frame',
      '  a-1 [000] ..... 1.000003: contention_begin: nothex (flags=WRITE)',
      '  a-1 [000] ..... 1.000004: x: z',
    ].join('\n');
    const r = importText([{ name: 'bad.txt', text, format: 'ftrace' }]);
    expect(r.parseDiags).toEqual([
      'bad.txt:2:1: not an ftrace event line: "garbage line here"',
      expect.stringMatching(/^bad\.txt:3:\d+: req: 'zz' is not a number$/),
      "bad.txt:4:2: '=>' stack frame without a <stack trace> line before it",
      expect.stringMatching(/^bad\.txt:5:\d+: bad lock address/),
    ]);
    expect(r.raw[0]!.map((e) => e.kind === 'instant' ? e.name : e.kind)).toEqual(['x', 'unparsed', 'unparsed', 'x']);
  });
});

describe('ftrace importer: real captures (fixtures/real)', () => {
  it('ext4 O_DIRECT: iomap_iter_dstmap mappings parse with their types, no diagnostics', () => {
    const { events, diags } = parse('e', fixture('real/kernel-fs/ext4-dio.txt'));
    expect(diags).toEqual([]);
    const maps = only(events, 'iomap_map');
    expect(maps.length).toBe(10);
    expect(new Set(maps.map((m) => m.mapType))).toEqual(new Set([MapType.MAPPED, MapType.UNWRITTEN]));
    expect(maps.every((m) => m.mapDev === 7 << 20 && m.mapLenBytes === 0x10000)).toBe(true);
    expect(maps.filter((m) => m.slot === 'write').length).toBeGreaterThan(0);
    expect(maps.filter((m) => m.slot === 'read').length).toBeGreaterThan(0); // the O_DIRECT read
  });

  it('xfs buffered: DELALLOC then UNWRITTEN mappings, writeback events typed as fs_op, no diagnostics', () => {
    const { events, diags } = parse('x', fixture('real/kernel-fs/xfs-buffered.txt'));
    expect(diags).toEqual([]);
    const types = only(events, 'iomap_map').map((m) => m.mapType);
    expect(types).toContain(MapType.DELALLOC);
    expect(only(events, 'iomap_map').find((m) => m.mapType === MapType.DELALLOC)!.mapAddr).toBe(NULL_ADDR);
    const names = new Set(only(events, 'fs_op').map((e) => e.name));
    expect(names).toEqual(new Set(['iomap_writeback_folio', 'iomap_add_to_ioend', 'iomap_dio_rw_begin', 'iomap_dio_complete']));
    // Only the iomap_iter lines that opened no step (the loops' last calls) stay instants.
    expect(new Set(only(events, 'instant').map((e) => e.name))).toEqual(new Set(['iomap_iter']));
  });

  it('fuse2fs trace: fuse requests, syscalls with paths through dup2, contention with stacks, no diagnostics', () => {
    const text = fixture('real/fuse2fs-hardlink/trace.txt');
    const { events, diags } = parse('f', text);
    expect(diags).toEqual([]);
    expect(only(events, 'fuse_send').length).toBe(only(events, 'fuse_reply').length);
    expect(only(events, 'fuse_send').every((s) => s.unique > 0)).toBe(true);
    const writes = only(events, 'app_op_begin').filter((e) => e.op === 'write' && e.fd === 1);
    expect(new Set(writes.map((w) => w.path.replace(/^.*\/mnt/, '')))).toEqual(new Set(['/d1/file', '/d2/link']));
    expect(only(events, 'lock_contention').length).toBeGreaterThan(0);
    expect(only(events, 'instant').filter((e) => e.name === 'stack_trace').every((e) => e.text.includes('fuse_file_write_iter'))).toBe(true);
    expect(normalize(parse('f', text, 13).events)).toEqual(normalize(events));
  });
});
