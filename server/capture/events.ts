// Which tracefs events a capture enables (`--events`) and the filter each gets (`--comm`, `--pid`,
// never the capturing process itself). Names are resolved against the running kernel's
// events/ folder: a name it does not have is refused, saying which.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TracefsError } from './tracefs.ts';

/** The groups `--events` takes by name (each also accepts any `SYSTEM` or `SYSTEM:EVENT` of tracefs). */
export const EVENT_GROUPS = ['fuse', 'lock', 'iomap', 'syscalls'] as const;
export const DEFAULT_EVENTS = EVENT_GROUPS.join(',');

/**
 * The syscalls the ftrace parser turns into app ops (src/trace/import/ftrace/syscalls.ts
 * SYSCALL_OPS), each traced at enter and exit. Those this kernel lacks are skipped (open and creat
 * exist on x86-64 only).
 */
const FILE_SYSCALLS = [
  'open', 'openat', 'openat2', 'creat', 'read', 'write', 'pread64', 'pwrite64', 'fsync', 'fdatasync',
  'ftruncate', 'fallocate', 'close', 'copy_file_range',
];

/** The lock contention tracepoints (kernel/locking, include/trace/events/lock.h). */
const LOCK_EVENTS = ['contention_begin', 'contention_end'];

/** An event as tracefs names it: `system/event` (its folder under events/). */
export type EventPath = string;

export interface ResolvedEvents {
  events: EventPath[];
  /** Group members this kernel lacks (a group takes what exists; said on stderr). */
  skipped: string[];
}

function eventsOf(root: string, system: string): string[] {
  try {
    return readdirSync(join(root, 'events', system), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * `--events a,b,…` → event folders. A group (fuse, lock, iomap, syscalls), a tracefs system
 * (all its events) or `system:event`; a name the kernel does not have throws naming it.
 */
export function resolveEvents(root: string, spec: string): ResolvedEvents {
  const out = new Set<EventPath>();
  const skipped: string[] = [];
  const missing: string[] = [];
  const names = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new TracefsError('--events names no event');
  for (const name of names) {
    if (name === 'lock') {
      const have = eventsOf(root, 'lock');
      for (const e of LOCK_EVENTS) {
        if (have.includes(e)) out.add(`lock/${e}`);
        else missing.push(`lock:${e}`);
      }
    } else if (name === 'syscalls') {
      const have = new Set(eventsOf(root, 'syscalls'));
      let any = false;
      for (const s of FILE_SYSCALLS) {
        if (have.has(`sys_enter_${s}`) && have.has(`sys_exit_${s}`)) {
          out.add(`syscalls/sys_enter_${s}`);
          out.add(`syscalls/sys_exit_${s}`);
          any = true;
        } else skipped.push(`syscalls:sys_{enter,exit}_${s}`);
      }
      if (!any) missing.push('syscalls (no syscall tracepoints: a kernel without CONFIG_FTRACE_SYSCALLS)');
    } else if (name.includes(':')) {
      const [system, event] = name.split(':', 2) as [string, string];
      if (system === '' || event === '' || event.includes('/') || system.includes('/')) missing.push(name);
      else if (eventsOf(root, system).includes(event)) out.add(`${system}/${event}`);
      else missing.push(name);
    } else if (!name.includes('/') && !name.startsWith('.')) {
      // fuse, iomap and any other system: every event the kernel has in it.
      const have = eventsOf(root, name);
      if (have.length === 0) {
        missing.push(name === 'fuse' ? 'fuse (no events/fuse: is the fuse module loaded?)' : name);
      }
      for (const e of have) out.add(`${name}/${e}`);
    } else missing.push(name);
  }
  if (missing.length > 0) {
    throw new TracefsError(`not on this kernel (no such folder under ${root}/events): ${missing.join(', ')}`);
  }
  return { events: [...out], skipped };
}

export interface FilterSpec {
  /** Keep only these task comms (`comm == "…"`; ftrace compares up to the kernel's 15 characters). */
  comms: readonly string[];
  /** Keep only these task ids (a process's threads as found at start). */
  tids: readonly number[];
  /** Never these task ids: the capturing process's own threads (it would trace its own reads). */
  excludeTids: readonly number[];
}

/** A comm as a filter string literal (ftrace's filter syntax has no escapes: a `"` cannot be matched). */
function commLiteral(comm: string): string {
  if (comm.includes('"') || comm === '') throw new TracefsError(`--comm '${comm}': a comm with '"' (or empty) cannot be filtered`);
  return `"${comm}"`;
}

/**
 * The one filter every enabled event gets (events.rst "Event filtering"): any of the comms, any
 * of the tids, and none of the excluded; the stacktrace trigger uses it too.
 */
export function buildFilter(f: FilterSpec): string {
  const parts: string[] = [];
  if (f.comms.length > 0) parts.push(`(${f.comms.map((c) => `comm == ${commLiteral(c)}`).join(' || ')})`);
  if (f.tids.length > 0) parts.push(`(${f.tids.map((t) => `common_pid == ${t}`).join(' || ')})`);
  for (const t of f.excludeTids) parts.push(`common_pid != ${t}`);
  return parts.join(' && ');
}
