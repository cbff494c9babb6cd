// The tracepoint tables: a name registered in a system's table reaches its handler (with the
// line's time, task and the system's state); an unknown name stays an instant with its body;
// per-task deferral settles an event by the same task's next event.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { TraceEvent } from '../../schema.ts';
import type { AnyTracepointSystem, TracepointSystem, WaitQueue } from './context.ts';
import { FtraceParser } from './parser.ts';
import { SYSTEMS } from './systems/index.ts';
import { asTaskId } from '../../ids.ts';

type Instant = TraceEvent & { kind: 'instant' };

function run(lines: string[], systems: ReadonlyArray<AnyTracepointSystem>): { events: TraceEvent[]; diags: string[] } {
  const events: TraceEvent[] = [];
  const p = new FtraceParser('t', (e) => events.push(e), undefined, systems);
  p.push(lines.join('\n') + '\n');
  p.end();
  return { events, diags: p.diags.first.map((d) => `${d.line}: ${d.code}: ${d.message}`) };
}

/** Counts its calls in its state; `my_tp: x N` → an instant `seen` with text `N #calls`. */
const counting: TracepointSystem<{ calls: number }> = {
  name: 'test',
  newState: () => ({ calls: 0 }),
  handlers: {
    my_tp(ctx, c, s) {
      s.calls++;
      ctx.emit({ kind: 'instant', tsNs: ctx.tsNs, task: ctx.task, name: 'seen', text: `${c.num('x')} #${s.calls}` });
    },
  },
};

describe('ftrace tracepoint tables', () => {
  it('dispatches a registered name to its handler; an unknown name is an instant with its body', () => {
    const { events, diags } = run([
      '  dd-7 [000] ..... 1.000001: my_tp: x 5',
      '  dd-7 [000] ..... 1.000003: other_tp: x 6 y 7',
      '  kw-9 [001] ..... 1.000004: test:my_tp: x 0x10', // `system:name` form
    ], [counting]);
    expect(diags).toEqual([]);
    expect(events).toEqual([
      { kind: 'instant', tsNs: 0, task: 'dd/7', name: 'seen', text: '5 #1' },
      { kind: 'instant', tsNs: 2000, task: 'dd/7', name: 'other_tp', text: 'x 6 y 7' },
      { kind: 'instant', tsNs: 3000, task: 'kw/9', name: 'seen', text: '16 #2' },
    ]);
  });

  it('a body the handler cannot read is an `unparsed` instant and a diag naming the field', () => {
    const { events, diags } = run(['  dd-7 [000] ..... 1.000001: my_tp: x zz'], [counting]);
    expect(events).toEqual([{ kind: 'instant', tsNs: 0, task: 'dd/7', name: 'unparsed', text: 'my_tp: x zz' }]);
    expect(diags).toEqual(["1: bad_body: x: 'zz' is not a number"]);
  });

  it('without the table the same tracepoint is an instant with its body', () => {
    const { events } = run(['  dd-7 [000] ..... 1.000001: my_tp: x 5'], SYSTEMS);
    expect(events).toEqual([{ kind: 'instant', tsNs: 0, task: 'dd/7', name: 'my_tp', text: 'x 5' }]);
  });

  it('a name in two systems is refused when the parser is made', () => {
    expect(() => new FtraceParser('t', () => {}, undefined, [counting, { ...counting, name: 'again' }])).toThrow(/my_tp is in two systems/);
  });

  it('defer: an event is settled by its own task’s next event and output keeps input order', () => {
    // `ask` is answered iff the same task's next event is an `answer`; other tasks' events between do not count.
    const asking: TracepointSystem<null> = {
      name: 'test',
      newState: () => null,
      handlers: {
        ask(ctx) {
          ctx.defer({ kind: 'instant', tsNs: ctx.tsNs, task: ctx.task, name: 'ask', text: 'unanswered' }, (held, next) => {
            held.text = next.kind === 'instant' && next.name === 'answer' ? 'answered' : 'unanswered';
          });
        },
      },
    };
    const { events } = run([
      '  a-1 [000] ..... 1.000001: ask: ',
      '  b-2 [000] ..... 1.000002: answer: ', // another task: not a's answer
      '  a-1 [000] ..... 1.000003: answer: ',
      '  b-2 [000] ..... 1.000004: ask: ',
      '  b-2 [000] ..... 1.000005: other: ',
      '  a-1 [000] ..... 1.000006: ask: ', // the input ends before a's next event: stays as emitted
    ], [asking]);
    expect(events.map((e) => [e.tsNs, e.task, (e as Instant).name, (e as Instant).text])).toEqual([
      [0, 'a/1', 'ask', 'answered'],
      [1000, 'b/2', 'answer', ''],
      [2000, 'a/1', 'answer', ''],
      [3000, 'b/2', 'ask', 'unanswered'],
      [4000, 'b/2', 'other', ''],
      [5000, 'a/1', 'ask', 'unanswered'],
    ]);
  });

  it('an event is delivered only once nothing open could still change it', () => {
    const asking: TracepointSystem<null> = {
      name: 'test',
      newState: () => null,
      handlers: { ask: (ctx) => ctx.defer({ kind: 'instant', tsNs: ctx.tsNs, task: ctx.task, name: 'ask', text: '' }, null) },
    };
    const delivered: string[] = [];
    const p = new FtraceParser('t', (e) => delivered.push(`${e.task} ${(e as Instant).name}`), undefined, [asking]);
    p.push('  a-1 [000] ..... 1.000001: ask: \n  b-2 [000] ..... 1.000002: x: \n');
    expect(delivered).toEqual([]); // a's ask is open: b's x waits behind it
    p.push('  a-1 [000] ..... 1.000003: y: \n');
    expect(delivered).toEqual(['a/1 ask', 'b/2 x', 'a/1 y']);
    p.end();
  });

  it('wait queue: an event waits for a later line with its key, oldest first, and holds output meanwhile', () => {
    // `req: k K` waits under key K; `done: k K v V` completes the oldest waiting under K with V.
    const waiting: TracepointSystem<{ q: WaitQueue<Instant> }> = {
      name: 'test',
      newState: (setup) => ({ q: setup.waitQueue<Instant>() }),
      handlers: {
        req(ctx, c, s) {
          s.q.push(c.num('k'), { kind: 'instant', tsNs: ctx.tsNs, task: ctx.task, name: 'req', text: '?' });
        },
        done(ctx, c, s) {
          const k = c.num('k');
          const ev = s.q.take(k);
          if (ev) ev.text = String(c.num('v'));
          ctx.keepAsInstant();
        },
      },
    };
    const delivered: string[] = [];
    const p = new FtraceParser('t', (e) => delivered.push(`${(e as Instant).name}=${(e as Instant).text}`), undefined, [waiting]);
    p.push([
      '  a-1 [000] ..... 1.000001: req: k 1',
      '  a-1 [000] ..... 1.000002: req: k 2',
      '  b-2 [000] ..... 1.000003: req: k 1',
      '  c-3 [000] ..... 1.000004: done: k 1 v 10', // the oldest under 1: a's first
      '  c-3 [000] ..... 1.000005: done: k 2 v 20',
    ].join('\n') + '\n');
    expect(delivered).toEqual([]); // b's req under key 1 is still waiting
    p.push('  c-3 [000] ..... 1.000006: done: k 1 v 30\n');
    expect(delivered).toEqual(['req=10', 'req=20', 'req=30', 'done=k 1 v 10', 'done=k 2 v 20', 'done=k 1 v 30']);
    p.end();
  });
});

describe('the fuse system fills the shared set of fuse-iomap inodes', () => {
  it('adds fsDev:ino at init_inode with iomap state and at fuse_iomap_begin, not for a non-iomap inode', () => {
    let shared: Set<string> | null = null;
    const probe: TracepointSystem<null> = { name: 'probe', newState: (setup) => { shared = setup.shared.fuseIomapInodes; return null; }, handlers: {} };
    const I = (ino: number): string => `connection 45 ino ${ino} nodeid ${ino} isize 0x0 idisksize 0x0`;
    run([
      `  fio-1 [000] ..... 1.000001: fuse_iomap_init_inode: ${I(12)} state (excl|iomap)`,
      `  fio-1 [000] ..... 1.000002: fuse_iomap_init_inode: ${I(14)} state (excl)`,
      `  fio-1 [000] ..... 1.000003: fuse_iomap_begin: connection 46 ino 13 nodeid 13 isize 0x0 idisksize 0x0 opflags () pos 0x0 length 0x1000`,
    ], [...SYSTEMS, probe]);
    expect([...shared!].sort()).toEqual(['45:12', '46:13']);
  });
});

describe('user stacks (options/userstacktrace): one user_stack instant, frames one per line, innermost first', () => {
  const ustack = (text: string, task: string, tsNs: number): TraceEvent => ({ kind: 'instant', tsNs, task: asTaskId(task), name: 'user_stack', text });

  it('the kernel\'s text: `<user stack trace>` then ` =>  <%016lx>` frames (fixtures/ftrace/user-stack.trace.txt, real)', () => {
    const { events, diags } = run(readFileSync(new URL('../../../../fixtures/ftrace/user-stack.trace.txt', import.meta.url), 'utf8').split('\n'), SYSTEMS);
    expect(diags).toEqual([]);
    // Four getppid calls, each followed by one user frame (leading zeros of the address dropped); times
    // from 48706.466848 (the first line), the stacks 2, 1, 1, 2 µs after their syscall.
    expect(events.filter((e) => e.kind === 'instant' && e.name === 'user_stack')).toEqual([
      ustack('0x7efe17f434f7', 'sh/21189', 2_000),
      ustack('0x7f5b7b5bd4f7', 'perl/21190', 7_044_000),
      ustack('0x7fb94f71a4f7', 'perl/21191', 14_291_000),
      ustack('0x7f6ed9ccd4f7', 'perl/21192', 21_925_000),
    ]);
  });

  it('trace-cmd report: the first frame on the `user_stack:` line, one `\\t=> 0x…` line per slot; the frames end at the first 0x0', () => {
    const { events, diags } = run([
      '            perl-20203 [000] 48672.903785543: sys_enter_getppid:    ',
      '            perl-20203 [000] 48672.903788048: user_stack:           \t=> 0x7f5c7ad814f7',
      '\t=> 0x55d0c0ffee10',
      '\t=> 0x0', '\t=> 0x0', '\t=> 0x7', '\t=> 0x0', '\t=> 0x0', '\t=> 0x0',
      '            perl-20203 [000] 48672.903790000: user_stack:           \t=> 0x0',
    ], SYSTEMS);
    expect(diags).toEqual([]);
    expect(events.filter((e) => e.kind === 'instant' && e.name === 'user_stack')).toEqual([
      ustack('0x7f5c7ad814f7\n0x55d0c0ffee10', 'perl/20203', 2_505),
      ustack('', 'perl/20203', 4_457),
    ]);
  });

  it('a frame the kernel named (sym-userobj) is kept as printed; the one-line form reads the same', () => {
    const { events, diags } = run([
      '  dd-7 [000] ..... 1.000001: <user stack trace>',
      ' => /usr/lib/x86_64-linux-gnu/libc.so.6[+0xe44f7]',
      ' =>  <000055d0c0ffee10>',
      '  dd-7 [000] ..... 1.000002: user_stack: <user stack trace> => 0x7f16f2295910 => 0x5607093efa57',
    ], SYSTEMS);
    expect(diags).toEqual([]);
    expect(events).toEqual([
      ustack('/usr/lib/x86_64-linux-gnu/libc.so.6[+0xe44f7]\n0x55d0c0ffee10', 'dd/7', 0),
      ustack('0x7f16f2295910\n0x5607093efa57', 'dd/7', 1_000),
    ]);
  });
});

describe('uprobe bodies: the kernel\'s `(0x…)` and a print fmt\'s `(…)` (trace.dat, trace_pipe_raw, trace-cmd report)', () => {
  it('both read a fuse_in_header probe into a fuse_recv', () => {
    const { events, diags } = run([
      '         fuse2fs-17140 [001] ..... 1831.997960: libfuse_recv: (0x7f0012345678) unique=42 opcode=26 nodeid=5 pid=77 bufflags=0',
      '         fuse2fs-17140 [001] ..... 1831.997970: libfuse_recv: (7f0012345678) unique=44 opcode=16 nodeid=6 pid=77 bufflags=0',
    ], SYSTEMS);
    expect(diags).toEqual([]);
    expect(events.filter((e) => e.kind === 'fuse_recv').map((e) => e.kind === 'fuse_recv' && [e.unique, e.opcode, e.nodeId, e.tsNs])).toEqual([
      [42, 26, 5, 0], [44, 16, 6, 10_000],
    ]);
  });
});
