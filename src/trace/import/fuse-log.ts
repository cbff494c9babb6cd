// Fuse server debug log importer. Incremental and isomorphic. One parser reads, line by line and
// interleaved in any mix, the dialects below (a fuse4fs -d log, for one, has libfuse's lines and
// its own). Every dialect gives the same request table and events.
//
// libfuse `-d` (2.6 … 3.18, lib/fuse_lowlevel.c; 2.6 printed to stdout, no `pid:` before 2.9;
// 2.6/2.7 print success as `error: 0 (Success)`; 2.9+ may add ` (splice)`; 3.18 prefixes the header
// with `dev ` or `cqe ` (io_uring)):
//   unique: 18, opcode: CREATE (35), nodeid: 2, insize: 61, pid: 16947     request header
//   create flags: 0x8241 /d1/file 0100644 umask=0022                         op line (paths)
//      NODEID: 4                                                             entry reply
//      unique: 18, success, outsize: 160                                     reply
//      unique: 8, error: -2 (No such file or directory), outsize: 16         error reply
//
// go-fuse (fuse/request.go InputDebug/OutputDebug, Go log prefix `2006/01/02 15:04:05 ` optional):
//   rx 18: MKDIR n1 {0755 (022)} ["d1"] 3b [p17144]     (`i1` for the nodeid in 2018–2023 versions)
//   tx 18:     OK, {n2 g1 tE=0s tA=0s {M040755 SZ=4096 L=2 0:0 B8*4096 i0:3039868 A … M … C …}}
//   tx 16:     2=no such file or directory, {…}
// An entry reply prints the new nodeid (`n2`) and the attr's `rdev:ino` (`i0:3039868`): a real st_ino.
//
// jacobsa/fuse (connection.go debugLog, debug.go describeRequest/describeResponse):
//   fuse: Op 0x00000012        connection.go:479] <- LookUpInode (parent 1, name "d1", PID 42)
//   fuse: Op 0x00000012        connection.go:578] -> LookUpInode (inode 5)    (before 2024: `-> OK`)
//   fuse: Op 0x00000014        connection.go:581] -> Error: "no such file or directory"
// The op id is the request's unique. jacobsa reports an inode ID as its st_ino (conversions.go:
// `out.Ino = uint64(inodeID)`), so an entry reply's `inode N` is nodeid N with ino N.
//
// fuse2fs/fuse4fs's own `dbg_printf` lines (e2fsprogs misc/fuse2fs.c, the fuse-iomap series'
// fuse4fs.c): `FUSE4FS (dev): tid=N func: ino=… pos=0x… count=0x…` → an `instant` named
// `fuse4fs:func` on task `fuse4fs/N` (the server thread), its text the rest as printed. Before
// e2fsprogs added `tid=` the lines had none: then the task is the log's server task.
//
// Everything else libfuse prints (INIT parameters, `getattr /x` sub-calls of the high-level
// library) is skipped; only a line that starts like a header or reply but does not parse is a
// diagnostic. A line no dialect knows (outside a libfuse request's op/sub-call lines) is
// kept as an `instant` named `log_line` (text `L<n>: <line>`) and counted (stats.otherLines). The
// result is a request table keyed by `unique` (for joining with a kernel trace, join.ts) plus events.
//
// Inode identity: under libfuse 2's high-level API the log prints nodeids, never the reply's
// st_ino, so the log cannot say which on-disk inode a nodeid names: its inode events carry ino 0
// (unknown). What it can say: a LINK's new nodeid names the same inode as its source path's
// nodeid, so that inode_new/inode_lookup carries aliasOf = the source's nodeid (0 when the source
// path was never resolved in the log). Real inode numbers come from other evidence (a reply probe,
// the kernel's INODE prefix: import/identity.ts); grouping is derive/inode-groups.ts.
//
// Time: a debug log has no clock. Standalone, line N is at tsNs = N µs (order only) and every
// event is marked untimed (untimed.ts); joined with a kernel trace, the requests matched by unique
// take the kernel's times and tasks, the rest stays marked untimed (join.ts).

import type { TraceEvent } from '../schema.ts';
import { DiagSink } from './diagnostics.ts';
import { LineFramer, type LineSink } from './framing.ts';
import { Line } from './line.ts';
import { MAX_FTRACE_LINE_BYTES } from './ftrace.ts';
import { asIno, asNodeId, asTaskId, NO_NODE_ID, UNKNOWN_INO, type NodeId, type TaskId } from '../ids.ts';
import { Opcode } from '../fuse-proto.ts';
import { untimedLogTask } from '../untimed.ts';

/** A log has no clock: standalone, line N is at N × this. */
export const FUSE_LOG_LINE_NS = 1000;

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
  /** LINK: the source's nodeid when the log names it (go-fuse `Oldnodeid`, jacobsa `target`). */
  linkSource?: NodeId;
  /** null until the reply line; then 0 or -errno. */
  error: number | null;
  outsize: number;
  replyLine: number;
  /** st_ino of an entry reply when the log prints it (go-fuse, jacobsa), else 0 (unknown). */
  replyIno: number;
}

/** Opcodes whose success reply is an entry (fuse_entry_out): they bind a path to a nodeid. */
const ENTRY_OPS = new Set(['LOOKUP', 'MKNOD', 'MKDIR', 'SYMLINK', 'LINK', 'CREATE', 'TMPFILE']);
const NEW_INODE_OPS = new Set(['MKNOD', 'MKDIR', 'SYMLINK', 'CREATE', 'TMPFILE']);

const HEADER = /^(?:dev |cqe )?unique: (\d+), opcode: ([\w?]+) \((\d+)\), nodeid: (\d+), insize: (\d+)(?:, pid: (\d+))?\s*$/;
const REPLY = /^\s*unique: (\d+), (?:(success)|error: (-?\d+) \(([^)]*)\)), outsize: (\d+)(?: \(splice\))?\s*$/;
/** Go's log.Logger prefix (LstdFlags, optionally with microseconds). */
const GO_LOG_PREFIX = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d(?:\.\d+)? /;
const GO_RX = /^rx (\d+): (\S+) [ni](\d+) ?(.*?)(?: p(\d+))?\s*$/;
const GO_TX = /^tx (\d+): +(OK|NOTIFY_\w+|(\d+)=[^,]*)(?:, (.*))?$/;
const GO_ENTRY = /^\{[ni](\d+) g\d+ .*? i\d+:(\d+) A /;
const JACOBSA = /(?:^|\s)Op 0x([0-9a-f]+) +\S+\] (<-|->) (.*)$/;
const SERVER_DBG = /^(FUSE[24]FS) \(([^)]*)\): (?:tid=(\d+) )?(\w+): ?(.*)$/;
const LIBFUSE_CHATTER = /^(?:FUSE library version|nullpath_ok:|nopath:|utime_omit_ok:|using FUSE kernel interface)/;
const NODEID = /^\s*NODEID: (\d+)\s*$/;

export class FuseLogParser implements LineSink {
  readonly requests = new Map<number, LogRequest>();
  /** Requests in header order (a unique can be reused after its reply; the map keeps the last). */
  readonly order: LogRequest[] = [];
  readonly stats = { lines: 0, headers: 0, replies: 0, otherLines: 0, serverLines: 0 };
  /** Line of the first `log_line` (0: none). */
  firstOtherLine = 0;
  /** Instants: the server's own debug lines and lines no dialect knows, in line order. */
  readonly extra: TraceEvent[] = [];
  private inLibfuseRequest = false;
  private readonly pathByNodeId = new Map<NodeId, string>([[asNodeId(1), '']]);
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
    if (this.stats.headers === 0 && this.stats.serverLines === 0 && this.diags.count === 0) this.diag(0, 0, 'empty', 'no fuse server request lines in file');
  }

  private diag(line: number, col: number, code: string, message: string): void {
    this.diags.add({ source: this.sourceName, line, col, code, message });
  }

  private line(raw: string, lineNo: number): void {
    this.lineNo = lineNo;
    this.stats.lines++;
    if (raw.length === 0 || raw.charCodeAt(0) === 35) return;
    const text = raw.charCodeAt(0) >= 48 && raw.charCodeAt(0) <= 57 ? raw.replace(GO_LOG_PREFIX, '') : raw;
    const indented = text.charCodeAt(0) === 32 || text.charCodeAt(0) === 9;
    const trimmed = indented ? text.trimStart() : text;
    if (trimmed.startsWith('unique:') || (!indented && (text.startsWith('dev unique:') || text.startsWith('cqe unique:')))) {
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
      else if (!this.inLibfuseRequest) this.other(raw);
      return;
    }
    const c0 = text.charCodeAt(0);
    if (c0 === 114 /* r */ || c0 === 116 /* t */) {
      const rx = GO_RX.exec(text);
      if (rx) return this.goRx(rx);
      const tx = GO_TX.exec(text);
      if (tx) return this.goTx(tx);
    }
    if (c0 === 70 /* F */) {
      const d = SERVER_DBG.exec(text);
      if (d) return this.serverDbg(d);
    }
    if (text.includes('Op 0x')) {
      const j = JACOBSA.exec(text);
      if (j) return this.jacobsa(j);
    }
    const req = this.awaitingOpLine;
    if (req !== null) {
      this.awaitingOpLine = null;
      req.opText = text;
      req.paths = pathsOf(req.opName, text);
      return;
    }
    if (this.inLibfuseRequest || LIBFUSE_CHATTER.test(text)) return;
    this.other(raw);
  }

  /** A line no dialect knows: kept as a `log_line` instant and counted. */
  private other(raw: string): void {
    this.stats.otherLines++;
    if (this.stats.otherLines === 1) this.firstOtherLine = this.lineNo;
    this.extra.push({ kind: 'instant', tsNs: this.lineNo * FUSE_LOG_LINE_NS, task: SERVER_TASK, name: 'log_line', text: `L${this.lineNo}: ${raw}` });
  }

  private newRequest(unique: number, opName: string, opcode: number, nodeId: number, insize: number, pid: number): LogRequest {
    const req: LogRequest = {
      unique, opName, opcode, nodeId: asNodeId(Number.isSafeInteger(nodeId) ? nodeId : 0), insize,
      pid, line: this.lineNo, opText: '', paths: [], entryNodeId: 0, error: null, outsize: 0, replyLine: 0, replyIno: 0,
    };
    this.stats.headers++;
    this.requests.set(req.unique, req);
    this.order.push(req);
    return req;
  }

  private replyTo(unique: number): LogRequest | null {
    this.stats.replies++;
    const req = this.requests.get(unique);
    if (req === undefined || req.error !== null) {
      this.diag(this.lineNo, 1, 'orphan_reply', `reply for unique ${unique} without a request header before it`);
      return null;
    }
    req.replyLine = this.lineNo;
    return req;
  }

  private goRx(m: RegExpExecArray): void {
    const opName = m[2]!;
    const opcode = opcodeOfName(opName);
    const req = this.newRequest(Number(m[1]), opName, opcode, Number(m[3]), 0, Number(m[5] ?? 0));
    req.opText = m[4] ?? '';
    // Names are printed quoted; the path is the parent's path + name when the parent's path is known.
    const names = [...req.opText.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((n) => n[1]!);
    const parent = this.pathByNodeId.get(req.nodeId);
    const under = (name: string): string => (parent === undefined ? '' : `${parent}/${name}`);
    if (opName === 'LINK') {
      const old = /Oldnodeid: [ni](\d+)/.exec(req.opText);
      const src = old ? this.pathByNodeId.get(asNodeId(Number(old[1]))) : undefined;
      req.paths = [src ?? '', under(names[0] ?? '')];
      if (old) req.linkSource = asNodeId(Number(old[1]));
    } else if (ENTRY_OPS.has(opName) && names.length > 0) {
      req.paths = [under(names[0]!)];
    }
  }

  private goTx(m: RegExpExecArray): void {
    const req = this.replyTo(Number(m[1]));
    if (req === null) return;
    req.error = m[2] === 'OK' || m[2]!.startsWith('NOTIFY_') ? 0 : -Number(m[3]);
    const e = req.error === 0 && ENTRY_OPS.has(req.opName) ? GO_ENTRY.exec(m[4] ?? '') : null;
    if (e) {
      const nodeId = Number(e[1]);
      const ino = Number(e[2]);
      if (Number.isSafeInteger(nodeId) && nodeId > 0) {
        req.entryNodeId = nodeId;
        if (Number.isSafeInteger(ino)) req.replyIno = ino;
        if (req.paths[req.opName === 'LINK' ? 1 : 0]) this.pathByNodeId.set(asNodeId(nodeId), req.paths[req.opName === 'LINK' ? 1 : 0]!);
      }
    }
  }

  private jacobsa(m: RegExpExecArray): void {
    const unique = parseInt(m[1]!, 16);
    const body = m[3]!;
    if (m[2] === '<-') {
      const op = /^(\w+)(?: \((.*)\))?$/.exec(body);
      const name = op?.[1] ?? body;
      const args = op?.[2] ?? '';
      const opName = JACOBSA_OPS[name] ?? name;
      const num = (k: string): number => Number(new RegExp(`(?:^|, )${k} (\\d+)`).exec(args)?.[1] ?? 0);
      const nodeId = num('inode') || num('parent') || num('old_parent');
      const req = this.newRequest(unique, opName, opcodeOfName(opName, num('opcode')), nodeId, 0, num('PID'));
      req.opText = body;
      const nm = /name "((?:[^"\\]|\\.)*)"/.exec(args);
      const parent = this.pathByNodeId.get(asNodeId(nodeId));
      if (nm && ENTRY_OPS.has(opName)) req.paths = [parent === undefined ? '' : `${parent}/${nm[1]}`];
      if (opName === 'LINK') {
        const target = num('target');
        req.paths = ['', req.paths[0] ?? ''];
        if (target) req.linkSource = asNodeId(target);
      }
      return;
    }
    const req = this.replyTo(unique);
    if (req === null) return;
    const err = /^Error: "(.*)"$/.exec(body);
    if (err) {
      const errno = ERRNO_BY_TEXT[err[1]!];
      // jacobsa sends EIO for an error that is no syscall.Errno (conversions.go): an unknown text is
      // taken as that, and said so, since it may also be an errno missing from the table.
      if (errno === undefined) this.diag(this.lineNo, 1, 'unknown_errno', `error text ${JSON.stringify(err[1])} is no errno text fusescope knows: taken as EIO (what jacobsa sends for an error that is not a syscall.Errno)`);
      req.error = -(errno ?? 5);
      return;
    }
    req.error = 0;
    const child = /\(inode (\d+)/.exec(body);
    if (child && ENTRY_OPS.has(req.opName)) {
      req.entryNodeId = Number(child[1]);
      req.replyIno = req.entryNodeId;
      const p = req.paths[req.opName === 'LINK' ? 1 : 0];
      if (p) this.pathByNodeId.set(asNodeId(req.entryNodeId), p);
    }
  }

  private serverDbg(m: RegExpExecArray): void {
    this.stats.serverLines++;
    const comm = m[1]!.toLowerCase();
    this.extra.push({ kind: 'instant', tsNs: this.lineNo * FUSE_LOG_LINE_NS, task: m[3] === undefined ? SERVER_TASK : asTaskId(`${comm}/${m[3]}`), name: `${comm}:${m[4]}`, text: m[5]! });
  }

  private header(h: RegExpExecArray): void {
    const req = this.newRequest(Number(h[1]), h[2]!, Number(h[3]), Number(h[4]), Number(h[5]), Number(h[6] ?? 0));
    this.awaitingOpLine = req;
    this.inLibfuseRequest = true;
  }

  private reply(r: RegExpExecArray): void {
    this.inLibfuseRequest = false;
    const req = this.replyTo(Number(r[1]));
    if (req === null) return;
    if (this.awaitingOpLine === req) this.awaitingOpLine = null;
    req.error = r[2] ? 0 : Number(r[3]);
    req.outsize = Number(r[5]);
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
    const ino = req.replyIno > 0 && req.replyIno !== 0xffffffff ? asIno(req.replyIno) : UNKNOWN_INO;
    if (req.opName === 'LINK') {
      const src = req.linkSource ?? this.nodeIdByPath.get(req.paths[0] ?? '');
      if (src !== undefined && src !== nodeId) aliasOf = src;
    }
    // A nodeid seen before and named again by a create is a reused nodeid: a new fuse_inode.
    if (!this.seenNodeIds.has(nodeId) || NEW_INODE_OPS.has(req.opName)) {
      this.seenNodeIds.add(nodeId);
      out.push({ aliasOf, kind: 'inode_new', tsNs, task, nodeId, ino, path });
    }
    if (path !== '') this.nodeIdByPath.set(path, nodeId);
    const n = (this.nlookup.get(nodeId) ?? 0) + 1;
    this.nlookup.set(nodeId, n);
    out.push({ aliasOf, kind: 'inode_lookup', tsNs, task, nodeId, ino, path, nlookup: n });
    return out;
  }
}

/**
 * The log on its own (no kernel trace): fuse_send at each header line, fuse_reply and inode events
 * at the reply line, tsNs = line × 1 µs. Those are not times, so every event is on its task marked
 * untimed (untimed.ts: untimedLogTask): the order and the threads are kept, every duration over
 * them is unknown. Consumes the path and lookup-count state: call once, or use the join (join.ts)
 * instead.
 */
export function standaloneEvents(log: FuseLogParser): TraceEvent[] {
  const out: TraceEvent[] = [];
  const server = untimedLogTask(SERVER_TASK);
  for (const req of log.order) {
    out.push({
      kind: 'fuse_send', tsNs: req.line * FUSE_LOG_LINE_NS, task: untimedLogTask(clientTask(req.pid)),
      unique: req.unique, opcode: req.opcode, nodeId: req.nodeId, lenBytes: req.insize,
    });
    if (req.error === null) continue;
    const tsNs = req.replyLine * FUSE_LOG_LINE_NS;
    out.push({ kind: 'fuse_reply', tsNs, task: server, unique: req.unique, opcode: req.opcode, error: req.error, lenBytes: req.outsize });
    out.push(...log.inodeEvents(req, tsNs, server));
  }
  for (const ev of log.extra) out.push({ ...ev, task: untimedLogTask(ev.task) });
  return out.sort((a, b) => a.tsNs - b.tsNs);
}

/** The task of a log's replies and entry events (the log does not say which server thread). */
export const SERVER_TASK = asTaskId('fuse-server/0');
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

/** jacobsa/fuse op type names (fuseops, `Op` stripped) → FUSE opcode names. */
const JACOBSA_OPS: Record<string, string> = {
  LookUpInode: 'LOOKUP', GetInodeAttributes: 'GETATTR', SetInodeAttributes: 'SETATTR', ForgetInode: 'FORGET',
  BatchForget: 'BATCH_FORGET', MkDir: 'MKDIR', MkNode: 'MKNOD', CreateFile: 'CREATE', CreateLink: 'LINK',
  CreateSymlink: 'SYMLINK', Rename: 'RENAME', RmDir: 'RMDIR', Unlink: 'UNLINK', OpenDir: 'OPENDIR', ReadDir: 'READDIR',
  ReadDirPlus: 'READDIRPLUS', ReleaseDirHandle: 'RELEASEDIR', OpenFile: 'OPEN', ReadFile: 'READ', WriteFile: 'WRITE',
  SyncFile: 'FSYNC', FlushFile: 'FLUSH', ReleaseFileHandle: 'RELEASE', ReadSymlink: 'READLINK', RemoveXattr: 'REMOVEXATTR',
  GetXattr: 'GETXATTR', ListXattr: 'LISTXATTR', SetXattr: 'SETXATTR', Fallocate: 'FALLOCATE', StatFS: 'STATFS',
  SyncFS: 'SYNCFS', Poll: 'POLL', init: 'INIT', interrupt: 'INTERRUPT', destroy: 'DESTROY',
};

/** Go's syscall.Errno texts (zerrors_linux) for the errors fuse servers commonly return. */
const ERRNO_BY_TEXT: Record<string, number> = {
  'operation not permitted': 1, 'no such file or directory': 2, 'interrupted system call': 4, 'input/output error': 5,
  'bad file descriptor': 9, 'permission denied': 13, 'file exists': 17, 'not a directory': 20, 'is a directory': 21,
  'invalid argument': 22, 'file too large': 27, 'no space left on device': 28, 'read-only file system': 30,
  'too many links': 31, 'numerical result out of range': 34, 'function not implemented': 38, 'directory not empty': 39,
  'no data available': 61, 'operation not supported': 95,
};

/** FUSE opcode number of a printed name (`LOOKUP`, go-fuse's `OPCODE-N`); 0 when unknown. */
function opcodeOfName(name: string, fallback = 0): number {
  const n = (Opcode as Record<string, number>)[name];
  if (n !== undefined) return n;
  const m = /^OPCODE-(\d+)$/.exec(name);
  return m ? Number(m[1]) : fallback;
}
