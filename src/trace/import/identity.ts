// Inode identity evidence the parsers keep as text, turned into typed events (one pass per kernel
// trace, after the joins): which nodeid has which real on-disk inode number.
//
//   uprobe on libfuse's reply:   fuse_reply_entry: (0x…) unique=18 nodeid=4 ino=14
//                                fuse_reply_attr:  (0x…) unique=22 st_ino=14          (no nodeid)
//   series event kept as text:   fuse_iomap_buffered_write: connection 7 ino 14 nodeid 4 isize …
//
// A probe with `ino=`/`st_ino=` and `nodeid=` names its nodeid itself. Without `nodeid=` it is
// joined by `unique=` to its request (this trace's fuse_send/fuse_recv, else a -d log's header):
// for a GETATTR-like request the reply is about the header's nodeid; for an entry reply (LOOKUP,
// CREATE, LINK, …) it is about the *new* nodeid, which only the log's `NODEID:` line names — the
// header's nodeid there is the parent directory, so it is never used. Probes that cannot be
// resolved are counted, not guessed.
//
// Each (nodeid, ino) pair not already carried by a typed event of the trace becomes one
// `inode_lookup` right after the instant that showed it: path '' and nlookup 0 (identity evidence,
// not a counted lookup). `ino` 0 and libfuse's FUSE_UNKNOWN_INO (0xffffffff) are not evidence.

import type { TraceEvent } from '../schema.ts';
import { Opcode } from '../fuse-proto.ts';
import type { FuseLogParser } from './fuse-log.ts';
import { parseNum } from './ftrace/cursor.ts';
import { asNodeId, asIno, NO_NODE_ID } from '../ids.ts';

const FUSE_UNKNOWN_INO = 0xffffffff;
/** Requests whose reply is a fuse_entry_out (its attr belongs to the new nodeid, not the header's). */
const ENTRY_OPCODES = new Set<number>([Opcode.LOOKUP, Opcode.MKNOD, Opcode.MKDIR, Opcode.SYMLINK, Opcode.LINK, Opcode.CREATE]);
/** Instants that are never identity evidence (their text is not a probe's or a tracepoint's body). */
const NOT_EVIDENCE = new Set(['stack_trace', 'tracing_mark_write', 'unparsed', 'lock_attribution']);

const ARG_INO = /(?:^|\s)(?:st_)?ino=(0x[0-9a-fA-F]+|\d+)\b/;
const ARG_NODEID = /(?:^|\s)nodeid=(0x[0-9a-fA-F]+|\d+)\b/;
const ARG_UNIQUE = /(?:^|\s)unique=(0x[0-9a-fA-F]+|\d+)\b/;
const INODE_PREFIX = /(?:^|\s)ino (\d+) nodeid (\d+)\b/;


interface IdentityResult {
  events: TraceEvent[];
  /** inode_lookup events added. */
  added: number;
  /** Probes with an inode number whose nodeid could not be told. */
  unresolved: number;
}

interface Req { opcode: number; nodeId: number }

/** Evidence from instants of one kernel trace (time-ordered), joined by unique with `logs`. */
export function resolveIdentity(events: readonly TraceEvent[], logs: readonly FuseLogParser[] = []): IdentityResult {
  const stepper = identityStepper(logs);
  const added = new Map<TraceEvent, TraceEvent>();
  for (const ev of events) {
    const a = stepper.step(ev);
    if (a !== null) added.set(ev, a);
  }
  if (added.size === 0) return { events: events as TraceEvent[], added: 0, unresolved: stepper.unresolved };
  const out: TraceEvent[] = [];
  for (const ev of events) {
    out.push(ev);
    const a = added.get(ev);
    if (a) out.push(a);
  }
  return { events: out, added: added.size, unresolved: stepper.unresolved };
}

/** The pass one event at a time (the import's list, or a live stream: server/capture/live-passes.ts). */
export interface IdentityStepper {
  /** The inode_lookup that goes right after `ev`, or null. */
  step(ev: TraceEvent): TraceEvent | null;
  /** Probes with an inode number whose nodeid could not be told, so far. */
  readonly unresolved: number;
}

export function identityStepper(logs: readonly FuseLogParser[] = []): IdentityStepper {
  const seen = new Set<string>();
  const reqByUnique = new Map<number, Req>();
  let unresolved = 0;
  const fromLog = (unique: number): { opcode: number; nodeId: number; entryNodeId: number } | undefined => {
    for (const l of logs) {
      const r = l.requests.get(unique);
      if (r) return r;
    }
    return undefined;
  };
  const step = (ev: TraceEvent): TraceEvent | null => {
    switch (ev.kind) {
      case 'fuse_send':
      case 'fuse_recv':
        // A joined send has the log's nodeid; a recv (probe on the server) has the header's.
        if (ev.nodeId !== 0 || !reqByUnique.has(ev.unique)) reqByUnique.set(ev.unique, { opcode: ev.opcode, nodeId: ev.nodeId });
        return null;
      case 'instant':
        break;
      default:
        if ('nodeId' in ev && 'ino' in ev && ev.nodeId !== 0 && ev.ino !== 0) seen.add(`${ev.nodeId}:${ev.ino}`);
        return null;
    }
    if (NOT_EVIDENCE.has(ev.name) || !ev.text.includes('ino')) return null;
    let nodeId = 0;
    let ino = 0;
    const prefix = INODE_PREFIX.exec(ev.text);
    const argIno = prefix ? null : ARG_INO.exec(ev.text);
    if (prefix) {
      ino = Number(prefix[1]);
      nodeId = Number(prefix[2]);
    } else if (argIno) {
      ino = parseNum(argIno[1]!);
      const n = ARG_NODEID.exec(ev.text);
      const u = ARG_UNIQUE.exec(ev.text);
      if (n) nodeId = parseNum(n[1]!);
      else if (u) nodeId = nodeIdOfReply(parseNum(u[1]!), reqByUnique, fromLog);
      else return null;
      if (nodeId === 0 && ino !== 0 && ino !== FUSE_UNKNOWN_INO) unresolved++;
    } else return null;
    if (nodeId === 0 || ino === 0 || ino === FUSE_UNKNOWN_INO || !Number.isFinite(ino)) return null;
    const key = `${nodeId}:${ino}`;
    if (seen.has(key)) return null;
    seen.add(key);
    return { aliasOf: NO_NODE_ID, kind: 'inode_lookup', tsNs: ev.tsNs, task: ev.task, nodeId: asNodeId(nodeId), ino: asIno(ino), path: '', nlookup: 0 };
  };
  return { step, get unresolved() { return unresolved; } };
}

/** Whether an instant may be identity evidence (the pass acts on no other): same tests as resolveIdentity. */
export function mayBeIdentityEvidence(ev: TraceEvent & { kind: 'instant' }): boolean {
  // (Each regex only where its words are: a substring search is far cheaper than a failed regex on a long line.)
  const t = ev.text;
  return !NOT_EVIDENCE.has(ev.name) && t.includes('ino') && ((t.includes('nodeid') && INODE_PREFIX.test(t)) || (t.includes('ino=') && ARG_INO.test(t)));
}

/** The nodeid a reply with this unique is about, or 0 (see the file comment). */
function nodeIdOfReply(
  unique: number, reqs: Map<number, Req>,
  fromLog: (u: number) => { opcode: number; nodeId: number; entryNodeId: number } | undefined,
): number {
  const log = fromLog(unique);
  const req = reqs.get(unique) ?? log;
  if (!req) return 0;
  if (ENTRY_OPCODES.has(req.opcode)) return log && log.opcode === req.opcode ? log.entryNodeId : 0;
  return req.nodeId !== 0 ? req.nodeId : log && log.opcode === req.opcode ? log.nodeId : 0;
}

/** Which kind of evidence an instant that yielded an identity event was (lock attribution's `methods`). */
export function evidenceSourceOf(instant: TraceEvent & { kind: 'instant' }): 'inode_tracepoint' | 'uprobe_reply' {
  return INODE_PREFIX.test(instant.text) ? 'inode_tracepoint' : 'uprobe_reply';
}
