// Markers written from user space: ftrace's `tracing_mark_write` (and `print`, its name in some
// tools' output), kept as instants named tracing_mark_write with the text.
import type { TracepointContext, TracepointSystem } from '../context.ts';
import type { Cursor } from '../cursor.ts';

export const miscSystem: TracepointSystem<null> = {
  name: 'misc',
  newState: () => null,
  handlers: {
    tracing_mark_write: mark,
    print: mark,
  },
};

function mark(ctx: TracepointContext, c: Cursor): void {
  ctx.emit({ kind: 'instant', tsNs: ctx.tsNs, task: ctx.task, name: 'tracing_mark_write', text: c.text() });
}
