// System `lock`: contention_begin/_end (docs/domain.md §4.6, include/trace/events/lock.h).
// `%p (flags=%s)` / `%p (ret=%d)`; the address hashed (`%p` in tracefs text) or raw (trace-cmd).
import type { TracepointContext, TracepointSystem } from '../context.ts';
import { BodyError, excerpt, parseU64, type Cursor } from '../cursor.ts';

/** __print_flags table of lock:contention_begin, in table order. */
const LOCK_FLAG_STRINGS: ReadonlyArray<readonly [number, string]> = [
  [1, 'SPIN'], [2, 'READ'], [4, 'WRITE'], [8, 'RT'], [16, 'PERCPU'], [32, 'MUTEX'],
];

export const lockSystem: TracepointSystem<null> = {
  name: 'lock',
  newState: () => null,
  handlers: {
    contention_begin: contention,
    contention_end: contention,
  },
};

function contention(ctx: TracepointContext, c: Cursor): void {
  const body = c.text();
  const sp = body.indexOf(' ');
  const addr = parseU64(sp < 0 ? body : body.slice(0, sp));
  if (addr === null) throw new BodyError(0, `bad lock address: ${excerpt(body)}`);
  const begin = ctx.name === 'contention_begin';
  let lockFlags = 0;
  let ret = 0;
  if (begin) {
    const f = /\(flags=([^)]*)\)/.exec(body);
    if (!f) throw new BodyError(sp, "expected '(flags=…)'");
    lockFlags = ctx.flags(f[1]!, LOCK_FLAG_STRINGS, 'lock flag');
  } else {
    const r = /\(ret=(-?\d+)\)/.exec(body);
    if (!r) throw new BodyError(sp, "expected '(ret=…)'");
    ret = Number(r[1]);
  }
  ctx.emit({ kind: 'lock_contention', tsNs: ctx.tsNs, task: ctx.task, phase: begin ? 'begin' : 'end', lockAddr: addr, lockFlags, ret });
}
