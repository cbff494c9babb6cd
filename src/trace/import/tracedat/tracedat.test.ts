// trace.dat read natively: a hand-built v6 file (header, formats, cmdlines, options, one page with a
// time extend, a record and a stored lost-events count), the real captures of fixtures/trace-dat
// against their `trace-cmd report -t` text (same typed events, field for field), and damaged files
// (cut, bytes flipped): what was read imports, a diagnostic names the byte offset.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { decompress as zstd } from 'fzstd';
import { memorySource } from '../../recording/reader.ts';
import { ImportPipeline } from '../pipeline.ts';
import { detectFormat } from '../index.ts';
import { importTraceDat, isTraceDat } from './index.ts';
import { readTraceDat } from './records.ts';
import { compressedBlockProblem, zstdFrameHeader } from './reader.ts';
import { parseEventFormat } from './format.ts';

const codecs = { inflate: (b: Uint8Array): Uint8Array => inflateRawSync(b), zstd: (b: Uint8Array): Uint8Array => zstd(b) };
const fixture = (p: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../../../fixtures/trace-dat/${p}`, import.meta.url)));
const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);

async function datLines(bytes: Uint8Array): Promise<{ text: string; diags: Array<{ offsetBytes: number; code: string; message: string }> }> {
  let text = '';
  const diags: Array<{ offsetBytes: number; code: string; message: string }> = [];
  await readTraceDat(memorySource(bytes), codecs, { push: (t) => { text += t; }, diag: (d) => diags.push(d) });
  return { text, diags };
}

async function importDat(bytes: Uint8Array, name = 'f.dat', via: 'direct' | 'text' = 'direct') {
  const pipe = new ImportPipeline();
  await importTraceDat(pipe, name, memorySource(bytes), codecs, undefined, { via });
  return pipe.finish();
}

function importReport(text: string, name = 'f.dat') {
  const pipe = new ImportPipeline({ format: 'ftrace' });
  const feed = pipe.open(name);
  feed.push(text);
  feed.end();
  return pipe.finish();
}

// ---- a v6 file built by hand ----
const CONTENTION_BEGIN = `name: contention_begin
ID: 408
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:void * lock_addr;\toffset:8;\tsize:8;\tsigned:0;
\tfield:unsigned int flags;\toffset:16;\tsize:4;\tsigned:0;

print fmt: "%p (flags=%s)", REC->lock_addr, __print_flags(REC->flags, "|", { (1U << 0), "SPIN" }, { (1U << 1), "READ" }, { (1U << 2), "WRITE" })
`;
const HEADER_PAGE = '\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n';

class Bytes {
  parts: number[] = [];
  u8(v: number): this { this.parts.push(v & 255); return this; }
  u16(v: number): this { return this.u8(v).u8(v >> 8); }
  u32(v: number): this { return this.u16(v & 0xffff).u16(v >>> 16); }
  u64(v: number | bigint): this { const b = BigInt(v); return this.u32(Number(b & 0xffffffffn)).u32(Number(b >> 32n)); }
  str(s: string): this { for (const c of new TextEncoder().encode(s)) this.u8(c); return this; }
  get length(): number { return this.parts.length; }
  pad(to: number): this { while (this.parts.length < to) this.u8(0); return this; }
  bytes(): Uint8Array { return new Uint8Array(this.parts); }
}

/** One CPU, one page: base 5 s; a time extend of 2^27 + 3 ns; contention_begin by pid 77 (delta 10 ns); `lost` stored. */
function handBuilt(lost: number | null, format = CONTENTION_BEGIN): Uint8Array {
  const f = new Bytes().u8(0x17).u8(0x08).str('Dtracing').str('6\0').u8(0).u8(8).u32(4096);
  f.str('header_page\0').u64(HEADER_PAGE.length).str(HEADER_PAGE);
  f.str('header_event\0').u64(4).str('none');
  f.u32(0); // ftrace formats
  f.u32(1).str('lock\0').u32(1).u64(format.length).str(format);
  f.u32(0).u32(0); // kallsyms, printk
  const cmd = '77 dd\n';
  f.u64(cmd.length).str(cmd);
  f.u32(1); // cpus
  f.str('options  \0').u16(4).u32(7).str('[mono]\0').u16(0);
  f.str('flyrecord\0');
  const dataAt = 8192;
  f.u64(dataAt).u64(4096);
  f.pad(dataAt);
  const events = new Bytes()
    .u32(30 | (3 << 5)).u32(1) // time extend: (1 << 27) + 3
    .u32((24 / 4) | (10 << 5)) // data, 24 bytes, delta 10
    .u16(408).u8(0).u8(0).u32(77).u64(0xffff888012345678n).u32(4).u32(0);
  const commit = events.length | (lost === null ? 0 : lost < 0 ? 0x80000000 : 0xc0000000);
  f.u64(5_000_000_000).u64(commit);
  for (const b of events.parts) f.u8(b);
  if (lost !== null && lost > 0) f.u64(lost);
  f.pad(dataAt + 4096);
  return f.bytes();
}

describe('trace.dat: formats and pages by hand', () => {
  it('parses an event format: fields with offsets, sizes, signedness, __data_loc strings', () => {
    const ev = parseEventFormat(`name: x\nID: 7\nformat:\n\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\tfield:__data_loc char[] name;\toffset:8;\tsize:4;\tsigned:0;\n\tfield:char comm[16];\toffset:12;\tsize:16;\tsigned:0;\n\nprint fmt: "%s", __get_str(name)\n`, 'sys');
    expect(ev).toMatchObject({ id: 7, system: 'sys', name: 'x', printFmt: '"%s", __get_str(name)' });
    expect(ev!.fields.map((f) => [f.name, f.offset, f.size, f.signed, f.loc, f.isString, f.arrayCount])).toEqual([
      ['common_pid', 4, 4, true, null, false, 0], ['name', 8, 4, false, 'data', true, 0], ['comm', 12, 16, false, null, true, 16],
    ]);
  });

  it('is detected by its magic', () => {
    const f = handBuilt(null);
    expect(isTraceDat(f)).toBe(true);
    expect(detectFormat(new TextDecoder().decode(f.subarray(0, 64)))).toBe('trace-dat');
  });

  it('prints a record as report does: comm from cmdlines, cpu, the time extend added, the body by its print fmt', async () => {
    const { text, diags } = await datLines(handBuilt(null));
    // 5 s + 2^27 + 3 + 10 ns = 5.134217741 s
    expect(text).toBe('dd-77 [000] 5.134217741: contention_begin: 0xffff888012345678 (flags=WRITE)\n');
    expect(diags).toEqual([]);
    const out = await importDat(handBuilt(null));
    expect(out.result.events.filter((e) => e.kind === 'lock_contention')).toEqual([
      { kind: 'lock_contention', tsNs: 0, task: 'dd/77', phase: 'begin', lockAddr: 0xffff888012345678n, lockFlags: 4, ret: 0 },
    ]);
    expect(out.result.files[0]!.originNs).toBe(5_134_217_741n);
  });

  it('a body its tracepoint handler refuses: the same unparsed instant and diagnostic (line, column) directly as through its report line', async () => {
    // contention_begin printed without its `(flags=…)` part: the lock table's handler refuses the body.
    const noFlags = handBuilt(null, CONTENTION_BEGIN.replace(/print fmt: .*/, 'print fmt: "%p", REC->lock_addr'));
    const direct = await importDat(noFlags);
    const text = await importDat(noFlags, 'f.dat', 'text');
    // The report line is `dd-77 [000] 5.134217741: contention_begin: 0xffff888012345678`: `contention_begin` starts at column 26 (25 characters before it).
    expect(direct.result.events).toEqual([{ kind: 'instant', tsNs: 0, task: 'dd/77', name: 'unparsed', text: 'contention_begin: 0xffff888012345678' }]);
    expect(direct.diags.map((d) => [d.line, d.col, d.code, d.message])).toEqual([[1, 26, 'bad_body', "expected '(flags=…)'"]]);
    expect(direct.result.events).toEqual(text.result.events);
    expect(direct.diags).toEqual(text.diags);
  });

  it('a page flagged with lost events and their count is a gap with that count', async () => {
    const out = await importDat(handBuilt(1234));
    const gaps = out.result.events.filter((e) => e.kind === 'gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ kind: 'gap', missedEvents: 1234 });
  });

  it('lost events without a stored count: report\'s `CPU:0 [EVENTS DROPPED]` line, a gap whose count is unknown (-1), before the page\'s record', async () => {
    const { text, diags } = await datLines(handBuilt(-1));
    expect(text).toBe('CPU:0 [EVENTS DROPPED]\ndd-77 [000] 5.134217741: contention_begin: 0xffff888012345678 (flags=WRITE)\n');
    expect(diags).toEqual([]);
    const out = await importDat(handBuilt(-1));
    expect(out.result.events.filter((e) => e.kind === 'gap')).toEqual([expect.objectContaining({ missedEvents: -1 })]);
    expect(out.result.events[0]!.kind).toBe('gap');
    // The same events as the report line read as text.
    expect(out.result.events).toEqual(importReport(text).result.events);
  });
});

describe('trace.dat: real captures equal their trace-cmd report', () => {
  for (const name of ['ext4-dio.v6', 'ext4-dio.v7-none', 'fuse2fs-hardlink.v7-zstd', 'options.v6', 'options.v7-zstd', 'user-stack.v7-zstd']) {
    it(`${name}.dat gives the events of ${name}.report.txt, field for field`, async () => {
      const dat = await importDat(fixture(`${name}.dat`));
      const report = importReport(readFileSync(new URL(`../../../../fixtures/trace-dat/${name}.report.txt`, import.meta.url), 'utf8'));
      // options.*: one diagnostic names the instance buffer the file holds (its records read).
      expect(dat.diags.map((d) => d.code)).toEqual(name.startsWith('options') ? ['dat_instance'] : []);
      expect(report.diagCount).toBe(0);
      // user-stack: 4 sys_enter_getppid + 4 user_stack records (its report's event lines), the rest > 150.
      expect(dat.result.events.length).toBeGreaterThan(name === 'user-stack.v7-zstd' ? 7 : 150);
      expect(JSON.stringify(dat.result.events, big)).toBe(JSON.stringify(report.result.events, big));
      expect(dat.result.originNs).toBe(report.result.originNs);
      expect(dat.formats.get('f.dat')).toBe('trace-dat');
    });
  }

  for (const name of ['ext4-dio.v6', 'ext4-dio.v7-none', 'fuse2fs-hardlink.v7-zstd', 'options.v6', 'options.v7-zstd', 'user-stack.v7-zstd']) {
    it(`${name}.dat: records handed to the parser directly give every event and field its report lines give`, async () => {
      const direct = await importDat(fixture(`${name}.dat`));
      const text = await importDat(fixture(`${name}.dat`), 'f.dat', 'text');
      expect(text.result.events.length).toBeGreaterThan(name === 'user-stack.v7-zstd' ? 7 : 150);
      expect(direct.result.events.length).toBe(text.result.events.length);
      // Event by event, so a difference names its index.
      direct.result.events.forEach((e, i) => expect(JSON.stringify(e, big), `event ${i}`).toBe(JSON.stringify(text.result.events[i], big)));
      expect(direct.result.originNs).toBe(text.result.originNs);
      expect(direct.result.files).toEqual(text.result.files);
      expect(direct.diags).toEqual(text.diags);
    });
  }

  it('ext4-dio.v6: the records the report shows (counted by hand from its lines)', async () => {
    const ev = (await importDat(fixture('ext4-dio.v6.dat'))).result.events;
    // report: 1 contention_begin + 1 contention_end line; 20 iomap_dio_rw_begin (dd writes 4 + 8 + 8 O_DIRECT blocks)
    expect(ev.filter((e) => e.kind === 'lock_contention').length).toBe(2);
    const first = ev.find((e) => e.kind === 'lock_contention')!;
    expect(first).toMatchObject({ task: 'dd/17553', phase: 'begin', lockAddr: 0xffff888320a7d348n, lockFlags: 4 });
    expect(ev.filter((e) => e.kind === 'fs_op' && e.name === 'iomap_dio_rw_begin').length).toBe(20);
  });

  it('user-stack.v7-zstd: each user_stack record is one instant of its frames, the zero slots report prints left out', async () => {
    const ev = (await importDat(fixture('user-stack.v7-zstd.dat'))).result.events;
    // report: `perl-21177 … user_stack: \t=> 0x7f19a621c4f7` and seven `\t=> 0x0` lines, per record (4 records).
    const stacks = ev.filter((e) => e.kind === 'instant' && e.name === 'user_stack');
    expect(stacks.map((e) => [e.task, e.kind === 'instant' && e.text])).toEqual([
      ['sh/21176', '0x7fde5bb094f7'], ['perl/21177', '0x7f19a621c4f7'], ['perl/21179', '0x7f1efe90a4f7'], ['perl/21180', '0x7fdf243fb4f7'],
    ]);
  });

  it('fuse2fs-hardlink.v7-zstd: the first FUSE_OPEN request (report line 3)', async () => {
    const ev = (await importDat(fixture('fuse2fs-hardlink.v7-zstd.dat'))).result.events;
    const send = ev.find((e) => e.kind === 'fuse_send')!;
    expect(send).toMatchObject({ task: 'dd/17595', opcode: 14 });
    expect(ev.filter((e) => e.kind === 'fuse_send').length).toBe(40);
  });
});

describe('trace.dat: instance buffers and stack-trace records (fixtures/trace-dat/options.*)', () => {
  // Counted by hand in options.v6.report.txt: 32 `fsx:` lines (16 of dd-6254, 16 of dd-6255: iomap_dio_rw_begin
  // and _complete of the loop device, which only the `fsx` instance traced), 7 `kernel_stack:` lines each
  // followed by 8 `=> addr` lines; options.v7-zstd: 32 and 5.
  for (const [name, stacks] of [['options.v6', 7], ['options.v7-zstd', 5]] as const) {
    it(`${name}: the instance's records are read, on their tasks; each stack record is a stack of its frames`, async () => {
      const out = await importDat(fixture(`${name}.dat`));
      const iomap = out.result.events.filter((e) => e.kind === 'fs_op');
      expect(iomap.length).toBe(32);
      expect(iomap.every((e) => /^dd\/\d+$/.test(e.task))).toBe(true);
      const d = out.diags.find((x) => x.code === 'dat_instance')!;
      expect(d.message).toMatch(/^instance buffer "fsx" \(trace-cmd record -B\): 32 records read/);
      const st = out.result.events.filter((e) => e.kind === 'instant' && e.name === 'stack_trace');
      expect(st.length).toBe(stacks);
      // The first stack's frames, as report prints them (no kallsyms in the file: addresses).
      expect((st[0] as { text: string }).text).toBe(['ffffffff813ea8da', 'ffffffff8224d0fc', 'ffffffff8224d4b6', 'ffffffff817d5787',
        'ffffffff816dc6ec', 'ffffffff816dcaef', 'ffffffff8223c951', 'ffffffff81000130'].join('\n'));
      // Each stack follows its contention_begin on the same task.
      const begins = out.result.events.filter((e) => e.kind === 'lock_contention' && e.phase === 'begin');
      expect(begins.length).toBe(stacks);
      expect(st.map((e) => e.task)).toEqual(begins.map((e) => e.task));
    });
  }

  it('a comm with `: ` in it is the comm, not an instance name: printed right-aligned (blanks before it) or trimmed (one blank after the colon)', () => {
    // The kernel prints the comm `%16s` (a comm has at most 15 characters): `a: b` comes after blanks.
    const padded = importReport('            a: b-77    [000] .....   10.000100: sched_foo: x=1\n');
    expect(padded.result.events).toEqual([{ kind: 'instant', tsNs: 0, task: 'a: b/77', name: 'sched_foo', text: 'x=1' }]);
    // Trimmed in a paste: report's instance prefix is padded (two blanks or more after the colon), this is not.
    const trimmed = importReport('a: b-77 [000] 10.000100: sched_foo: x=1\n');
    expect(trimmed.result.events).toEqual([{ kind: 'instant', tsNs: 0, task: 'a: b/77', name: 'sched_foo', text: 'x=1' }]);
    // A name with characters trace-cmd's instance names do not have (`/`) is no instance either.
    const slash = importReport('a/b:        dd-6254  [000] 38841.788720333: sched_foo:  a=1\n');
    expect(slash.result.events).toEqual([{ kind: 'instant', tsNs: 0, task: 'a/b:        dd/6254', name: 'sched_foo', text: 'a=1' }]);
  });

  it('an untyped event of an instance buffer names the buffer in its text (report line with `name:` before the comm)', () => {
    const out = importReport('cpus=1\nfsx:               dd-6254  [000] 38841.788720333: sched_foo:  a=1\n                   dd-6254  [000] 38841.788720400: sched_foo:  a=2\n');
    expect(out.result.events).toEqual([
      { kind: 'instant', tsNs: 0, task: 'dd/6254', name: 'sched_foo', text: '[fsx] a=1' },
      { kind: 'instant', tsNs: 67, task: 'dd/6254', name: 'sched_foo', text: 'a=2' },
    ]);
  });
});

// ftrace's kernel_stack format (Linux 6.18 tracefs events/ftrace/kernel_stack/format).
const KERNEL_STACK = `name: kernel_stack
ID: 4
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int size;\toffset:8;\tsize:4;\tsigned:1;
\tfield:unsigned long caller[8];\toffset:16;\tsize:64;\tsigned:0;

print fmt: "\\t=> %ps\\n\\t=> %ps\\n", (void *)REC->caller[0], (void *)REC->caller[1]
`;

/** One CPU, one page: a kernel_stack record of pid 77 with `frames` (size = frames.length), the file's kallsyms `syms`; or a record of another ftrace `format` with id 4 whose int at offset 8 is `word`. */
function stackFile(frames: bigint[], syms: string, format = KERNEL_STACK, word = frames.length): Uint8Array {
  const f = new Bytes().u8(0x17).u8(0x08).str('Dtracing').str('6\0').u8(0).u8(8).u32(4096);
  f.str('header_page\0').u64(HEADER_PAGE.length).str(HEADER_PAGE);
  f.str('header_event\0').u64(4).str('none');
  f.u32(1).u64(format.length).str(format); // ftrace formats
  f.u32(0); // event systems
  f.u32(syms.length).str(syms).u32(0); // kallsyms, printk
  const cmd = '77 dd\n';
  f.u64(cmd.length).str(cmd);
  f.u32(1);
  f.str('flyrecord\0');
  const dataAt = 8192;
  f.u64(dataAt).u64(4096);
  f.pad(dataAt);
  const rec = new Bytes().u16(4).u8(0).u8(0).u32(77).u32(word).u32(0);
  for (const a of frames) rec.u64(a);
  const events = new Bytes().u32(0 | (5 << 5)).u32(rec.length + 4); // type_len 0: length in array[0] (+4)
  for (const b of rec.parts) events.u8(b);
  f.u64(5_000_000_000).u64(events.length);
  for (const b of events.parts) f.u8(b);
  f.pad(dataAt + 4096);
  return f.bytes();
}

describe('trace.dat: kernel_stack records by hand', () => {
  const frames = [0xffffffff81000150n, 0xffffffff81000200n, 0xffffffff80000000n, 0xffffffffffffffffn, 0xffffffff81000100n];
  it('frames named from the file\'s kallsyms: the symbol at or below each address; below the first symbol, the address; the all-ones marker ends the stack', async () => {
    const syms = 'ffffffff81000000 T _stext\nffffffff81000100 t foo\nffffffff81000200 T bar\n';
    const { text } = await datLines(stackFile(frames, syms));
    expect(text).toBe('dd-77 [000] 5.000000005: kernel_stack: <stack trace >\n=> foo (ffffffff81000150)\n=> bar (ffffffff81000200)\n=> ffffffff80000000\n');
    const ev = (await importDat(stackFile(frames, syms))).result.events;
    expect(ev).toEqual([{ kind: 'instant', tsNs: 0, task: 'dd/77', name: 'stack_trace', text: 'foo\nbar\nffffffff80000000' }]);
  });

  it('without kallsyms every frame is its address; `size` bounds the frames read', async () => {
    const ev = (await importDat(stackFile(frames.slice(0, 2), ''))).result.events;
    expect(ev).toEqual([{ kind: 'instant', tsNs: 0, task: 'dd/77', name: 'stack_trace', text: 'ffffffff81000150\nffffffff81000200' }]);
  });
});

describe('trace.dat: damaged files import what they can', () => {
  const whole = fixture('ext4-dio.v6.dat');
  it('cut inside CPU data: a prefix imports, a diagnostic names where it stopped', async () => {
    // `trace-cmd dump --flyrecord`: CPU 0's page at 49152, CPU 1's two pages at 53248 and 57344.
    const full = (await importDat(whole)).result.events.length;
    for (const cut of [57344 + 1016, 53248 + 1016]) {
      const out = await importDat(whole.subarray(0, cut));
      expect(out.result.events.length).toBeGreaterThan(0);
      expect(out.result.events.length).toBeLessThan(full);
      expect(out.diags.some((d) => /^byte \d+: /.test(d.message) && d.code === 'dat_cut')).toBe(true);
    }
  });

  it('cut inside the metadata: nothing to import, the diagnostic names the offset', async () => {
    for (const cut of [20, 300, 2000]) {
      const out = await importDat(whole.subarray(0, cut));
      expect(out.result.events).toEqual([]);
      const d = out.diags.find((x) => x.code === 'dat_header')!;
      expect(d.message).toMatch(/^byte \d+: /);
      expect(Number(/^byte (\d+)/.exec(d.message)![1])).toBeLessThanOrEqual(cut);
    }
  });

  it('a page whose commit runs past the page stops that CPU there, with its byte offset', async () => {
    const { text: good } = await datLines(whole);
    // The last page of the file (CPU 1's last): its commit field set to 0x7ffffff.
    const bad = whole.slice();
    const pageAt = bad.length - 4096;
    new DataView(bad.buffer).setUint32(pageAt + 8, 0x7ffffff, true);
    const { text, diags } = await datLines(bad);
    expect(diags.map((d) => d.message)).toContain(`byte ${pageAt}: CPU 1: page commit 134217727 runs past the page (CPU 1: the rest of its data is not read)`);
    expect(text.split('\n').length).toBeLessThan(good.split('\n').length);
    expect(text.length).toBeGreaterThan(0);
  });
});

// ftrace's user_stack format (Linux 6.18 tracefs events/ftrace/user_stack/format), with id 4 for stackFile.
const USER_STACK = `name: user_stack
ID: 4
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:unsigned int tgid;\toffset:8;\tsize:4;\tsigned:0;
\tfield:unsigned long caller[8];\toffset:16;\tsize:64;\tsigned:0;

print fmt: "\\t=> %ps\\n\\t=> %ps\\n\\t=> %ps\\n" "\\t=> %ps\\n\\t=> %ps\\n\\t=> %ps\\n" "\\t=> %ps\\n\\t=> %ps\\n", (void *)REC->caller[0], (void *)REC->caller[1], (void *)REC->caller[2], (void *)REC->caller[3], (void *)REC->caller[4], (void *)REC->caller[5], (void *)REC->caller[6], (void *)REC->caller[7]
`;

describe('trace.dat: user_stack records by hand', () => {
  // pid 77 of process 76; two frames, then the zeroed slots the kernel leaves (report prints them as 0x0).
  const frames = [0x7f16f2295910n, 0x5607093efa57n, 0n, 0n, 0n, 0n, 0n, 0n];
  it('one instant naming the frames up to the first empty slot; the same directly and through its line', async () => {
    const { text, diags } = await datLines(stackFile(frames, '', USER_STACK, 76));
    expect(text).toBe('dd-77 [000] 5.000000005: user_stack: <user stack trace> => 0x7f16f2295910 => 0x5607093efa57\n');
    expect(diags).toEqual([]);
    const direct = await importDat(stackFile(frames, '', USER_STACK, 76));
    // The frames one per line, innermost first, as a <stack trace> block's; report prints no tgid, so neither do we.
    expect(direct.result.events).toEqual([{ kind: 'instant', tsNs: 0, task: 'dd/77', name: 'user_stack', text: '0x7f16f2295910\n0x5607093efa57' }]);
    expect(direct.diags).toEqual([]);
    expect((await importDat(stackFile(frames, '', USER_STACK, 76), 'f.dat', 'text')).result.events).toEqual(direct.result.events);
  });

  it('a full stack has all eight frames; an empty one none', async () => {
    const full = Array.from({ length: 8 }, (_, i) => 0x400000n + BigInt(i) * 0x10n);
    const ev = (await importDat(stackFile(full, '', USER_STACK, 5))).result.events;
    expect(ev.map((e) => e.kind === 'instant' && e.text)).toEqual(['0x400000\n0x400010\n0x400020\n0x400030\n0x400040\n0x400050\n0x400060\n0x400070']);
    const none = (await importDat(stackFile(Array(8).fill(0n), '', USER_STACK, 5))).result.events;
    expect(none.map((e) => e.kind === 'instant' && e.name === 'user_stack' && e.text)).toEqual(['']);
  });
});

describe('trace.dat: compressed blocks are checked before anything is allocated for them', () => {
  const frame = (...bytes: number[]): Uint8Array => new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, ...bytes]);

  it('reads a zstd frame header as RFC 8878 lays it out', () => {
    // Single segment, 1-byte content size 100: the window is the content.
    expect(zstdFrameHeader(frame(0x20, 100))).toEqual({ contentBytes: 100, windowBytes: 100 });
    // Single segment, 2-byte content size: 0x1000 + 256.
    expect(zstdFrameHeader(frame(0x60, 0x00, 0x10))).toEqual({ contentBytes: 4352, windowBytes: 4352 });
    // A window descriptor 0x58 (exponent 11: 2^21, mantissa 0) and no content size.
    expect(zstdFrameHeader(frame(0x00, 0x58))).toEqual({ contentBytes: null, windowBytes: 2 ** 21 });
    // Exponent 11, mantissa 3: 2^21 + 3 × 2^18.
    expect(zstdFrameHeader(frame(0x00, 0x5b))).toEqual({ contentBytes: null, windowBytes: 2 ** 21 + 3 * 2 ** 18 });
    expect(zstdFrameHeader(new Uint8Array([1, 2, 3, 4, 5, 6]))).toBe('no zstd frame magic');
    expect(zstdFrameHeader(frame(0x08, 0))).toBe('reserved bit of the frame header descriptor set');
  });

  it('refuses a size past what the bytes can expand to, a frame that declares another size, a window past 2^27', () => {
    const ok = frame(0x20, 100, 0, 0, 0, 0);
    expect(compressedBlockProblem('zstd', ok, 100)).toBe('');
    expect(compressedBlockProblem('zstd', ok, 200)).toBe('zstd frame declares 100 bytes, its block header 200');
    // 10 bytes can become at most 10 × 32,768 (+ 64 of slack) = 327,744.
    expect(compressedBlockProblem('zstd', frame(0x00, 0x58, 0, 0, 0, 0), 400_000)).toMatch(/^zstd block of 10 bytes declares 400000 bytes uncompressed/);
    // Exponent 31: a 2^41-byte window (fzstd would have tried to allocate its limit, ~2 GiB).
    expect(compressedBlockProblem('zstd', frame(0x00, 0xf8, 0, 0, 0, 0), 1000)).toBe('zstd frame asks for a 2199023255552-byte window, over the 134217728 bytes reference decoders accept');
    // deflate: at most 1,032 times.
    expect(compressedBlockProblem('zlib', new Uint8Array(100), 100 * 1032 + 64)).toBe('');
    expect(compressedBlockProblem('zlib', new Uint8Array(100), 100 * 1032 + 65)).not.toBe('');
  });

  it('the real compressed captures pass the checks (every fixture above reads whole)', async () => {
    for (const name of ['fuse2fs-hardlink.v7-zstd.dat', 'options.v7-zstd.dat', 'user-stack.v7-zstd.dat']) {
      const { diags } = await datLines(fixture(name));
      expect(diags.filter((d) => /declares|window|expand/.test(d.message))).toEqual([]);
    }
  });
});
