// Test helpers for exported traces: the Chrome Trace Event Format rules we rely on, and a small
// trace that exercises every span kind (the Chrome JSON and the CLI's Perfetto tests share it).
import type { ChromeEvent } from '../export/chrome-json.ts';
import type { TraceEvent } from '../schema.ts';
import { ev } from './events.ts';

/**
 * Every span kind, overlapping lock spans on one task (wait for B while holding A), a zero-length
 * span, an open span (the fsync at 220), orphan closers and instants.
 */
export function exportSample(): TraceEvent[] {
  return [
    ev('app_op_begin', 100, 'dd/1', { op: 'write' }),
    ev('lock_wait', 110, 'dd/1', { nodeId: 2 }),
    ev('lock_acquire', 120, 'dd/1', { nodeId: 2 }),
    ev('lock_wait', 125, 'dd/1', { nodeId: 3 }),
    ev('iomap_begin', 130, 'dd/1'),
    ev('fuse_send', 140, 'dd/1', { unique: 4 }),
    ev('fuse_recv', 150, 'srv/9', { unique: 4 }),
    ev('cache_upsert', 155, 'srv/9'),
    ev('fuse_reply', 170, 'srv/9', { unique: 4 }),
    ev('iomap_map', 175, 'dd/1'),
    ev('iomap_iter_end', 180, 'dd/1'),
    ev('lock_release', 185, 'dd/1', { nodeId: 2 }),
    ev('lock_acquire', 190, 'dd/1', { nodeId: 3 }),
    ev('lock_release', 190, 'dd/1', { nodeId: 3 }),
    ev('app_op_end', 200, 'dd/1', { op: 'write' }),
    ev('fuse_reply', 205, 'srv/9', { unique: 99 }),
    ev('lock_contention', 210, 'kworker/u8:1/77'),
    ev('app_op_begin', 220, 'dd/1', { op: 'fsync' }),
  ];
}

/** The Chrome Trace Event Format's rules we rely on (docs: "Trace Event Format", Google). */
export function validateChrome(events: ChromeEvent[]): string[] {
  const errors: string[] = [];
  const names = new Set<number>();
  const lastTs = new Map<string, number>();
  const openStack = new Map<string, number[]>(); // per track: end times of enclosing X slices
  const flows = new Map<number, string[]>();
  for (const [i, e] of events.entries()) {
    if (typeof e.name !== 'string' || typeof e.ph !== 'string' || typeof e.pid !== 'number') errors.push(`#${i}: name/ph/pid missing`);
    if (e.ph === 'M') {
      if (e.name === 'thread_name') names.add(e.tid!);
      continue;
    }
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts)) errors.push(`#${i}: ts missing`);
    const track = `${e.pid}:${e.tid ?? 'p'}:${e.ph === 'C' ? e.name : ''}`;
    if (e.ph !== 'C' && e.ph !== 's' && e.ph !== 'f') {
      if (e.ts! < (lastTs.get(track) ?? -Infinity)) errors.push(`#${i}: ts goes backwards on ${track}`);
      lastTs.set(track, e.ts!);
    }
    switch (e.ph) {
      case 'X': {
        if (typeof e.dur !== 'number' || e.dur < 0) errors.push(`#${i}: X without dur`);
        if (!names.has(e.tid!)) errors.push(`#${i}: tid ${e.tid} has no thread_name`);
        const stack = openStack.get(track) ?? [];
        // µs are fractional floats: allow 1 ps of rounding where slices abut.
        while (stack.length && stack[stack.length - 1]! <= e.ts! + 1e-6) stack.pop();
        if (stack.length && e.ts! + e.dur! > stack[stack.length - 1]! + 1e-6) errors.push(`#${i}: X overlaps its parent without nesting`);
        if (stack.includes(Infinity)) errors.push(`#${i}: X after a slice that did not end, on its track`);
        stack.push(e.ts! + e.dur!);
        openStack.set(track, stack);
        break;
      }
      case 'B': {
        // A slice with no end: it lasts to the end of the trace, so nothing may follow on its track.
        if (!names.has(e.tid!)) errors.push(`#${i}: tid ${e.tid} has no thread_name`);
        const stack = openStack.get(track) ?? [];
        while (stack.length && stack[stack.length - 1]! <= e.ts! + 1e-6) stack.pop();
        stack.push(Infinity);
        openStack.set(track, stack);
        break;
      }
      case 'i': if (e.s !== 't' && e.s !== 'p' && e.s !== 'g') errors.push(`#${i}: instant scope`); break;
      case 'C': if (!e.args || Object.values(e.args).some((v) => typeof v !== 'number')) errors.push(`#${i}: counter args`); break;
      case 's': case 'f': {
        if (typeof e.id !== 'number' || !e.cat) errors.push(`#${i}: flow without id/cat`);
        const list = flows.get(e.id!) ?? [];
        list.push(e.ph);
        flows.set(e.id!, list);
        break;
      }
      default: errors.push(`#${i}: unexpected phase ${e.ph}`);
    }
  }
  for (const [id, phases] of flows) if (phases.join('') !== 'sf') errors.push(`flow ${id}: phases ${phases.join('')}`);
  return errors;
}
