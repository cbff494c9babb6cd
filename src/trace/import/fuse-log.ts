// libfuse debug log importer (`-d`: fuse2fs, any libfuse 2/3 server). Incremental and isomorphic.
//
//   unique: 18, opcode: CREATE (35), nodeid: 2, insize: 61, pid: 16947     request header
//   create flags: 0x8241 /d1/file 0100644 umask=0022                         op line (paths)
//      NODEID: 4                                                             entry reply
//      unique: 18, success, outsize: 160                                     reply
//      unique: 8, error: -2 (No such file or directory), outsize: 16         error reply
//
// Everything else libfuse prints (INIT parameters, `getattr /x` sub-calls of the high-level
// library) is skipped; only a line that starts like a header or reply but does not parse is a
// diagnostic. The result is a request table keyed by `unique` (for joining with a kernel trace,
// join.ts) plus events.
//
// Inode identity: under libfuse 2's high-level API the log prints nodeids, never the reply's
// st_ino, so the log cannot say which on-disk inode a nodeid names: its inode events carry ino 0
// (unknown). What it can say: a LINK's new nodeid names the same inode as its source path's
// nodeid, so that inode_new/inode_lookup carries aliasOf = the source's nodeid (0 when the source
// path was never resolved in the log). Real inode numbers come from other evidence (a reply probe,
// the kernel's INODE prefix: import/identity.ts); grouping is derive/inode-groups.ts.
//
// Time: a debug log has no clock. Standalone, line N is at tsNs = N µs (order only); joined with
// a kernel trace, events take the times of the matching kernel requests (join.ts).

import type { TraceEvent } from '../schema.ts';
import { DiagSink } from './diagnostics.ts';
import { LineFramer, type LineSink } from './framing.ts';
import { Line } from './line.ts';
import { MAX_FTRACE_LINE_BYTES } from './ftrace.ts';
import { asNodeId, asTaskId, NO_NODE_ID, UNKNOWN_INO, type NodeId, type TaskId } from '../ids.ts';

const FUSE_LOG_LINE_NS = 1000;

interface LogRequest {
  unique: number;
  opcode: number;
  opName: string;
  nodeId: NodeId;
  insize: number;
  pid: number;
  /** 1-based line of the header. */
  line: number;
  /** The operation line, e.g. `link /d1/file /d2/link` ('' if none was printed). */
  opText: string;
  /** Paths named by the op line, in order (LINK: source, new). */
  paths: string[];
  /** NODEID of an entry reply (0 = none). */
  entryNodeId: number;
  /** null until the reply line; then 0 or -errno. */
  error: number | null;
  outsize: number;
  replyLine: number;
}

/** Opcodes whose success reply is an entry (fuse_entry_out): they bind a path to a nodeid. */
const ENTRY_OPS = new Set(['LOOKUP', 'MKNOD', 'MKDIR', 'SYMLINK', 'LINK', 'CREATE', 'TMPFILE']);
const NEW_INODE_OPS = new Set(['MKNOD', 'MKDIR', 'SYMLINK', 'CREATE', 'TMPFILE']);

const HEADER = /^unique: (\d+), opcode: ([\w?]+) \((\d+)\), nodeid: (\d+), insize: (\d+)(?:, pid: (\d+))?\s*$/;
const REPLY = /^\s*unique: (\d+), (?:(success)|error: (-?\d+) \(([^)]*)\)), outsize: (\d+)\s*$/;
const NODEID = /^\s*NODEID: (\d+)\s*$/;

export class FuseLogParser implements LineSink {
  readonly requests = new Map<number, LogRequest>();
  /** Requests in header order (a unique can be reused after its reply; the map keeps the last). */
  readonly order: LogRequest[] = [];
  readonly stats = { lines: 0, headers: 0, replies: 0 };
  private lineNo = 0;
  private readonly current = new Line();
  private readonly framer = new LineFramer(this.current, this, MAX_FTRACE_LINE_BYTES);
  private awaitingOpLine: LogRequest | null = null;
  private pendingNodeId = 0;
  private readonly seenNodeIds = new Set<number>();
  private readonly nodeIdByPath = new Map<string, NodeId>();
  private readonly nlookup = new Map<number, number>();

  constructor(
    private readonly sourceName: string,
    readonly diags = new DiagSink(),
  ) {}

  /** Text or UTF-8 bytes, in chunks of any size. */
  push(chunk: string | Uint8Array): void {
    this.framer.push(chunk);
  }

  /** @internal (LineFramer) */
  onLine(): void {
    this.line(this.current.text(), this.current.lineNo);
  }

  /** @internal (LineFramer) */
  lineTooLong(lineNo: number): void {
    this.stats.lines++;
    this.diag(lineNo, 1, 'line_too_long', `line longer than ${MAX_FTRACE_LINE_BYTES} bytes skipped`);
  }

  end(): void {
    this.framer.end();
    if (this.stats.headers === 0 && this.diags.count === 0) this.diag(0, 0, 'empty', 'no libfuse request headers in file');
  }

  private diag(line: number, col: number, code: string, message: string): void {
    this.diags.add({ source: this.sourceName, line, col, code, message });
  }

  private line(text: string, lineNo: number): void {
    this.lineNo = lineNo;
    this.stats.lines++;
    if (text.length === 0 || text.charCodeAt(0) === 35) return;
    const indented = text.charCodeAt(0) === 32 || text.charCodeAt(0) === 9;
    const trimmed = indented ? text.trimStart() : text;
    if (trimmed.startsWith('unique:')) {
      if (!indented) {
        const h = HEADER.exec(text);
        if (h) return this.header(h);
      }
      const r = REPLY.exec(text);
      if (r) return this.reply(r);
      this.diag(this.lineNo, text.length - trimmed.length + 1, 'bad_line', `malformed libfuse request/reply line: ${JSON.stringify(trimmed.slice(0, 80))}`);
      return;
    }
    if (indented) {
      const n = NODEID.exec(text);
      if (n) this.pendingNodeId = Number(n[1]);
      return;
    }
    const req = this.awaitingOpLine;
    if (req !== null) {
      this.awaitingOpLine = null;
      req.opText = text;
      req.paths = pathsOf(req.opName, text);
    }
  }

  private header(h: RegExpExecArray): void {
    this.stats.headers++;
    const req: LogRequest = {
      unique: Number(h[1]), opName: h[2]!, opcode: Number(h[3]), nodeId: asNodeId(Number(h[4])), insize: Number(h[5]),
      pid: Number(h[6] ?? 0), line: this.lineNo, opText: '', paths: [], entryNodeId: 0, error: null, outsize: 0, replyLine: 0,
    };
    this.requests.set(req.unique, req);
    this.order.push(req);
    this.awaitingOpLine = req;
  }

  private reply(r: RegExpExecArray): void {
    this.stats.replies++;
    const unique = Number(r[1]);
    const req = this.requests.get(unique);
    if (req === undefined || req.error !== null) {
      this.diag(this.lineNo, 1, 'orphan_reply', `reply for unique ${unique} without a request header before it`);
      return;
    }
    if (this.awaitingOpLine === req) this.awaitingOpLine = null;
    req.error = r[2] ? 0 : Number(r[3]);
    req.outsize = Number(r[5]);
    req.replyLine = this.lineNo;
    if (req.error === 0 && ENTRY_OPS.has(req.opName) && this.pendingNodeId !== 0) {
      req.entryNodeId = this.pendingNodeId;
      this.pendingNodeId = 0;
    }
  }

  /**
   * inode_new / inode_lookup for an entry reply: ino 0 (the log has no st_ino), aliasOf for a
   * LINK (file comment). Exposed so the join can emit them at the kernel's reply time; call once
   * per request, in log order.
   */
  inodeEvents(req: LogRequest, tsNs: number, task: TaskId): TraceEvent[] {
    if (req.entryNodeId === 0 || req.error !== 0) return [];
    const nodeId = asNodeId(req.entryNodeId);
    const path = req.opName === 'LINK' || req.opName === 'SYMLINK' ? (req.paths[1] ?? '') : (req.paths[0] ?? '');
    const out: TraceEvent[] = [];
    let aliasOf = NO_NODE_ID;
    if (req.opName === 'LINK') {
      const src = this.nodeIdByPath.get(req.paths[0] ?? '');
      if (src !== undefined && src !== nodeId) aliasOf = src;
    }
    // A nodeid seen before and named again by a create is a reused nodeid: a new fuse_inode.
    if (!this.seenNodeIds.has(nodeId) || NEW_INODE_OPS.has(req.opName)) {
      this.seenNodeIds.add(nodeId);
      out.push({ aliasOf, kind: 'inode_new', tsNs, task, nodeId, ino: UNKNOWN_INO, path });
    }
    if (path !== '') this.nodeIdByPath.set(path, nodeId);
    const n = (this.nlookup.get(nodeId) ?? 0) + 1;
    this.nlookup.set(nodeId, n);
    out.push({ aliasOf, kind: 'inode_lookup', tsNs, task, nodeId, ino: UNKNOWN_INO, path, nlookup: n });
    return out;
  }
}

/**
 * The log on its own (no kernel trace): fuse_send at each header line, fuse_reply and inode events
 * at the reply line, tsNs = line × 1 µs. Consumes the path and lookup-count state: call once, or use the
 * join (join.ts) instead.
 */
export function standaloneEvents(log: FuseLogParser): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (const req of log.order) {
    out.push({
      kind: 'fuse_send', tsNs: req.line * FUSE_LOG_LINE_NS, task: clientTask(req.pid),
      unique: req.unique, opcode: req.opcode, nodeId: req.nodeId, lenBytes: req.insize,
    });
    if (req.error === null) continue;
    const tsNs = req.replyLine * FUSE_LOG_LINE_NS;
    out.push({ kind: 'fuse_reply', tsNs, task: SERVER_TASK, unique: req.unique, opcode: req.opcode, error: req.error, lenBytes: req.outsize });
    out.push(...log.inodeEvents(req, tsNs, SERVER_TASK));
  }
  return out.sort((a, b) => a.tsNs - b.tsNs);
}

const SERVER_TASK = asTaskId('fuse-server/0');
function clientTask(pid: number): TaskId {
  return asTaskId(`pid/${pid}`);
}

/** Paths named by a libfuse op line; the verb decides where they are. */
function pathsOf(opName: string, text: string): string[] {
  const tok = text.split(' ');
  const verb = tok[0] ?? '';
  switch (opName) {
    case 'LOOKUP':
      return verb === 'LOOKUP' ? [text.slice(7)] : [];
    case 'CREATE': {
      // create flags: 0x8241 /d1/file 0100644 umask=0022
      const at = tok.findIndex((t) => t.startsWith('/'));
      return at < 0 ? [] : [tok[at]!];
    }
    case 'LINK':
    case 'RENAME':
    case 'RENAME2':
    case 'SYMLINK':
      return tok.slice(1, 3).filter((t) => t !== '');
    default: {
      const p = tok.find((t) => t.startsWith('/'));
      return p === undefined ? [] : [p];
    }
  }
}
