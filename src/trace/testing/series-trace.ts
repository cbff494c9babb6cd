// A fuse4fs-like run written line by line from the fuse-iomap series' tracepoint formats
// (docs/import.md; the series' fs/fuse/fuse_trace.h as posted to linux-fsdevel), in v7 or v6
// formats and in trace_pipe or `trace-cmd report` layout, together with the figures the scenario
// itself implies (counted while writing it — never by parsing it). Tests compare fusescope's
// summary of the text with these; `scripts/gen-series-fixtures.ts` writes the committed fixtures.
//
// The scenario (one fuse connection 45, fuse4fs-style: nodeid = ino, an in-place server so no
// inode has a write fork and every write-fork lookup falls through to the read fork):
//   - setup: config, backing device, two iomap inodes (12, 13); the server upserts 12's first extent
//   - random 4 KiB buffered writes into 1 MiB of inode 12 by fio: a read-fork hit, or a miss
//     answered with RETRY_CACHE after the server upserted the 64 KiB extent (then a hit)
//   - writeback every WRITES_PER_FLUSH writes by a kworker: writeback_range, an iomap step
//     (a miss is answered by a plain reply), writeback_submit (addr printed ×512), and the
//     completion kworker's ioends, each successful one followed by the kernel's invalidation of
//     both forks; the first batch's last ioend converts unwritten blocks (IOEND sent); one IO fails
//   - a stale cookie found by writeback, a server inval, an overflow cleanup in an upsert
//   - inode 13: an upsert with the wrong attr_ino, one failing validation (bad_data), one with
//     RETRY_CACHE (all three rejected), a direct read whose reply has a type string fusescope
//     does not know, a direct write whose reply fails validation, eviction
//   - a truncate and an O_TRUNC open of inode 12 (kernel invalidations), then more writes

export type SeriesVersion = 'v7' | 'v6';
export type SeriesLayout = 'pipe' | 'report';

export interface SeriesExpect {
  /** Event lines written (comments and trace-cmd headers excluded). */
  eventLines: number;
  lookups: { hits: number; misses: number; absent: number };
  /** hits ÷ (hits + misses). */
  hitRate: number;
  invalsByReason: Record<string, number>;
  dropsByReason: Record<string, number>;
  upserts: { accepted: number; rejected: number };
  stale: number;
  /** iomap steps (fuse_iomap_begin) per task (`comm/pid`). */
  stepsByTask: Record<string, number>;
  /**
   * Durations of the application tasks' steps in ns, in order: begin → the step's end (its
   * `…_end` exit, begin_error, or the task's next begin).
   */
  appStepNs: Record<string, number[]>;
  /** Requests sent by opcode number. */
  sendsByOpcode: Record<number, number>;
  notifies: { upsert: number; inval: number };
  /** Reply mappings with an unknown type string. */
  unknownTypes: number;
  badData: number;
  fsDev: number;
}

interface SeriesTrace { text: string; expect: SeriesExpect }

const CONN = 45;
const BLOCK = 0x1000;
const CHUNK = 0x10000;
const FILE_BYTES = 0x100000;
const DISK_BASE = 0x20000000;
const NULL = '0xffffffffffffffff';
const WRITES_PER_FLUSH = 24;
const hex = (n: number): string => `0x${n.toString(16)}`;

interface Task { comm: string; pid: number; cpu: number }
const FIO: Task = { comm: 'fio', pid: 3001, cpu: 4 };
const FIO2: Task = { comm: 'fio', pid: 3002, cpu: 5 };
const SERVER: Task = { comm: 'fuse4fs', pid: 1502, cpu: 7 };
const WB: Task = { comm: 'kworker/u33:2', pid: 211, cpu: 6 };
const WBDONE: Task = { comm: 'kworker/u33:3', pid: 212, cpu: 1 };
const TRUNC: Task = { comm: 'truncate', pid: 4001, cpu: 2 };
const SH: Task = { comm: 'sh', pid: 4002, cpu: 3 };
const MOUNT: Task = { comm: 'mount', pid: 1400, cpu: 0 };
const APP_TASKS = [FIO, FIO2];
const key = (t: Task): string => `${t.comm}/${t.pid}`;

/** Deterministic PRNG (mulberry32); scripts/fuzz.ts picks its mutations with it too. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seriesTrace(opts: { version: SeriesVersion; layout: SeriesLayout; seed?: number; writes?: number }): SeriesTrace {
  const { version, layout } = opts;
  const v7 = version === 'v7';
  const rand = rng(opts.seed ?? 7);
  const lines: string[] = [];
  let tUs = 512_000_000; // 512 s
  const t0 = tUs;
  const ex: SeriesExpect = {
    eventLines: 0, lookups: { hits: 0, misses: 0, absent: 0 }, hitRate: 0, invalsByReason: {}, dropsByReason: {},
    upserts: { accepted: 0, rejected: 0 }, stale: 0, stepsByTask: {}, appStepNs: {}, sendsByOpcode: {},
    notifies: { upsert: 0, inval: 0 }, unknownTypes: 0, badData: 0, fsDev: CONN,
  };
  const bump = (r: Record<string, number>, k: string | number, n = 1): void => { r[k] = (r[k] ?? 0) + n; };

  const line = (t: Task, name: string, body: string, stepUs = 3): void => {
    tUs += stepUs;
    const secs = Math.floor(tUs / 1e6);
    const usec = String(tUs % 1e6).padStart(6, '0');
    const cpu = String(t.cpu).padStart(3, '0');
    if (layout === 'pipe') {
      lines.push(`${t.comm.padStart(16)}-${String(t.pid).padEnd(7)} [${cpu}] ..... ${String(secs).padStart(5)}.${usec}: ${name}: ${body}`);
    } else {
      lines.push(`${t.comm.padStart(16)}-${String(t.pid).padEnd(5)} [${cpu}] ..... ${String(secs).padStart(5)}.${usec}: ${(name + ':').padEnd(21)} ${body}`);
    }
    ex.eventLines++;
  };
  const nowNs = (): number => (tUs - t0) * 1000;

  // Inode sizes, for the INODE prefix.
  const isize = new Map<number, number>([[12, FILE_BYTES], [13, 0x40000]]);
  const idisk = new Map<number, number>([[12, FILE_BYTES], [13, 0x40000]]);
  const INODE = (ino: number): string =>
    `connection ${CONN} ino ${ino} nodeid ${ino} isize ${hex(isize.get(ino)!)}` + (v7 ? ` idisksize ${hex(idisk.get(ino)!)}` : '');
  const MAP = (prefix: string, off: number, len: number, type: string, dev: number, addr: string, flags = ''): string =>
    ` ${prefix}offset ${hex(off)} length ${hex(len)} type ${type} dev ${dev} addr ${addr} mapflags (${flags})`;
  const diskAddr = (off: number): string => hex(DISK_BASE + off);
  const UPSERT = v7 ? 'fuse_iomap_upsert_mappings' : 'fuse_iomap_upsert';
  const INVAL = v7 ? 'fuse_iomap_inval_mappings' : 'fuse_iomap_inval';

  // Requests.
  let nextReq = 88;
  const send = (t: Task, opcode: number, opname: string, len: number): number => {
    const req = nextReq;
    nextReq += 2;
    line(t, 'fuse_request_send', `connection ${CONN} req ${req} opcode ${opcode} (${opname}) len ${len} `);
    bump(ex.sendsByOpcode, opcode);
    return req;
  };
  const serverTakes = (req: number, opcode: number, opname: string): void => {
    // Newest upstream's "server took it" event (v7 fixture only).
    if (v7) line(SERVER, 'fuse_request_sent', `connection ${CONN} req ${req} opcode ${opcode} (${opname})`, 20);
  };
  const reply = (req: number, len: number, error = 0): void => line(SERVER, 'fuse_request_end', `connection ${CONN} req ${req} len ${len} error ${error}`, 40);

  // Per-task open step (app tasks: durations recorded).
  const openStep = new Map<string, number>();
  const stepBegin = (t: Task): void => {
    bump(ex.stepsByTask, key(t));
    closeStep(t);
    openStep.set(key(t), nowNs());
  };
  function closeStep(t: Task): void {
    const b = openStep.get(key(t));
    if (b === undefined) return;
    openStep.delete(key(t));
    if (APP_TASKS.includes(t)) (ex.appStepNs[key(t)] ??= []).push(nowNs() - b);
  }

  // The kernel's read-fork cache of inode 12: cached 64 KiB chunks; ic_seq for cookies.
  const cached = new Set<number>();
  let hasCache = false;
  let seq = 1;
  const inval = (reason: string, n = 1): void => bump(ex.invalsByReason, reason, n);

  /** The server pushes chunk c of inode 12 into the read fork (an overlap purge of that range first). */
  const upsertChunk = (c: number, cleanup = false): void => {
    const off = c * CHUNK;
    line(SERVER, UPSERT, `${INODE(12)} attr_ino ${hex(12)}${MAP('read', off, CHUNK, 'mapped', 1, diskAddr(off))}${MAP('write', 0, 0, 'nocache', 0, NULL)}`);
    ex.notifies.upsert++;
    ex.upserts.accepted++;
    if (!hasCache) {
      line(SERVER, 'fuse_iomap_cache_alloc', `${INODE(12)} state (excl|iomap|iomap_cache)`);
      hasCache = true;
    }
    line(SERVER, 'fuse_iomap_cache_remove', `${INODE(12)} pos ${hex(off)} length ${hex(CHUNK)} iodir read caller fuse_iomap_upsert_mappings+0x1a2/0x3c0`);
    inval('upsert');
    if (cleanup) {
      line(SERVER, 'fuse_iomap_cache_cleanup', `${INODE(12)} iodir read`);
      bump(ex.dropsByReason, 'overflow');
      cached.clear();
    }
    line(SERVER, 'fuse_iomap_cache_add', `${INODE(12)} iodir read${MAP('', off, CHUNK, 'mapped', 1, diskAddr(off))} caller fuse_iomap_upsert_mappings+0x2b0/0x3c0`);
    cached.add(c);
    seq++;
  };

  /** Cache lookups of a write-ish step at pos (inode 12 has a cache): write fork absent, read fork hit or miss. */
  const lookupWrite = (t: Task, pos: number, len: number): boolean => {
    const R = `${INODE(12)} pos ${hex(pos)} length ${hex(len)}`;
    line(t, 'fuse_iomap_cache_lookup', `${R} iodir write caller fuse_iomap_try_cache+0x5c/0x3a0`, 1);
    ex.lookups.absent++;
    line(t, 'fuse_iomap_cache_lookup', `${R} iodir read caller fuse_iomap_try_cache+0x1d4/0x3a0`, 1);
    const c = Math.floor(pos / CHUNK);
    if (!cached.has(c)) {
      ex.lookups.misses++;
      return false;
    }
    const mapLen = Math.min(len, (c + 1) * CHUNK - pos); // v7 trims the cached record to the request
    line(t, 'fuse_iomap_cache_lookup_result',
      `${R} iodir read${MAP('map', pos, mapLen, 'mapped', 1, diskAddr(pos))}${MAP('got', c * CHUNK, CHUNK, 'mapped', 1, diskAddr(c * CHUNK))} cookie ${hex(seq)}`, 1);
    ex.lookups.hits++;
    return true;
  };

  /** The kernel invalidates [pos, pos+len) of inode 12 in both forks (it has a cache). */
  const kernelInval = (t: Task, pos: number, len: number, reason: string): void => {
    const R = `pos ${hex(pos)} length ${hex(len)}`;
    line(t, 'fuse_iomap_cache_invalidate_range', `${INODE(12)} ${R}`);
    line(t, 'fuse_iomap_cache_remove', `${INODE(12)} ${R} iodir read caller fuse_iomap_cache_invalidate_range+0x4e/0x90`, 1);
    line(t, 'fuse_iomap_cache_remove', `${INODE(12)} ${R} iodir write caller fuse_iomap_cache_invalidate_range+0x6a/0x90`, 1);
    inval(reason, 2);
    const end = pos + len;
    for (const c of [...cached]) if (c * CHUNK < end && (c + 1) * CHUNK > pos) cached.delete(c);
    seq++;
  };

  // ---- setup
  line(MOUNT, 'fuse_iomap_config', `connection ${CONN} root_ino 0x2 flags (blocksize|maxbytes) blocksize 0x1000 max_links 65000 time_gran 1 time_min -2147483648 time_max 2147483647 maxbytes 0x7fffffffffffffff uuid_len 16`);
  line(SERVER, 'fuse_backing_open', `connection ${CONN} idx 1 type iomap ino 0x1c5 rdev 7:0`);
  line(SERVER, 'fuse_iomap_dev_add', `connection ${CONN} fd 5 flags 0x0`);
  line(FIO, 'fuse_iomap_init_inode', `${INODE(12)} state (excl|iomap)`);
  line(FIO2, 'fuse_iomap_init_inode', `${INODE(13)} state (excl|iomap)`);
  upsertChunk(0); // fuse4fs upserts a file's first mapping at open

  // ---- buffered writes + writeback
  const dirty = new Set<number>();
  let batch = 0;
  let cleanedUp = false;
  const write = (t: Task, pos: number): void => {
    const B = `${INODE(12)} pos ${hex(pos)} length ${hex(BLOCK)}`;
    line(t, 'fuse_iomap_buffered_write', B, 7);
    line(t, 'fuse_iomap_begin', `${INODE(12)} opflags (write) pos ${hex(pos)} length ${hex(BLOCK)}`);
    stepBegin(t);
    if (hasCache && !lookupWrite(t, pos, BLOCK)) {
      // Miss: FUSE_IOMAP_BEGIN; fuse4fs upserts the extent and answers RETRY_CACHE; the retry hits.
      const req = send(t, 4094, 'FUSE_IOMAP_BEGIN', 72);
      serverTakes(req, 4094, 'FUSE_IOMAP_BEGIN');
      // Once, in the third batch: the read fork is over its size limit and is discarded (cleanup).
      const cleanup = batch === 2 && !cleanedUp;
      cleanedUp ||= cleanup;
      upsertChunk(Math.floor(pos / CHUNK), cleanup);
      reply(req, 80);
      line(t, 'fuse_iomap_read_map', `${INODE(12)}${MAP('', pos, BLOCK, 'retry', 0, NULL)}`, 2);
      line(t, 'fuse_iomap_write_map', `${INODE(12)}${MAP('', pos, BLOCK, 'overwrite', 0, NULL)}`, 0);
      lookupWrite(t, pos, BLOCK);
    } else if (!hasCache) {
      const req = send(t, 4094, 'FUSE_IOMAP_BEGIN', 72);
      serverTakes(req, 4094, 'FUSE_IOMAP_BEGIN');
      reply(req, 80);
      line(t, 'fuse_iomap_read_map', `${INODE(12)}${MAP('', pos, BLOCK, 'mapped', 1, diskAddr(pos))}`, 2);
      line(t, 'fuse_iomap_write_map', `${INODE(12)}${MAP('', pos, BLOCK, 'overwrite', 0, NULL)}`, 0);
    }
    line(t, 'fuse_iomap_buffered_write_end', `${B} ret ${hex(BLOCK)}`, 5);
    closeStep(t);
    dirty.add(pos / BLOCK);
  };

  const writeback = (): void => {
    const blocks = [...dirty].sort((a, b) => a - b);
    dirty.clear();
    const ranges: Array<[number, number]> = [];
    for (const b of blocks) {
      const last = ranges[ranges.length - 1];
      if (last && last[0] + last[1] === b * BLOCK) last[1] += BLOCK;
      else ranges.push([b * BLOCK, BLOCK]);
    }
    line(WB, 'fuse_iomap_writepages', `${INODE(12)} pos 0x0 length ${hex(FILE_BYTES)} nr_folios 1024 sync_all? 0`, 50);
    for (const [pos, len] of ranges) {
      line(WB, 'fuse_iomap_writeback_range', `${INODE(12)} pos ${hex(pos)} length ${hex(len)} end_pos ${hex(FILE_BYTES)}`);
      line(WB, 'fuse_iomap_begin', `${INODE(12)} opflags (writeback) pos ${hex(pos)} length ${hex(len)}`);
      stepBegin(WB);
      if (!lookupWrite(WB, pos, len)) {
        const req = send(WB, 4094, 'FUSE_IOMAP_BEGIN', 72);
        serverTakes(req, 4094, 'FUSE_IOMAP_BEGIN');
        reply(req, 80);
        line(WB, 'fuse_iomap_read_map', `${INODE(12)}${MAP('', pos, len, 'mapped', 1, diskAddr(pos))}`, 2);
        line(WB, 'fuse_iomap_write_map', `${INODE(12)}${MAP('', pos, len, 'overwrite', 0, NULL)}`, 0);
      }
    }
    for (const [pos, len] of ranges) {
      // addr is printed as the byte address shifted left by 9 (the series' code).
      line(WB, 'fuse_iomap_writeback_submit', `${INODE(12)} pos ${hex(pos)} length ${hex(len)} addr ${hex((DISK_BASE + pos) * 512)} nr_folios ${len / BLOCK} error 0`);
    }
    ranges.forEach(([pos, len], i) => {
      const failed = batch === 1 && i === 0;
      const unwritten = batch === 0 && i === ranges.length - 1;
      const err = failed ? -5 : 0;
      line(WBDONE, 'fuse_iomap_end_ioend', `${INODE(12)} pos ${hex(pos)} length ${hex(len)} ioendflags (${unwritten ? 'unwritten' : ''}) error ${err}`, 30);
      const flags = unwritten ? 'unwritten|writeback' : 'writeback';
      line(WBDONE, 'fuse_iomap_ioend', `${INODE(12)} pos ${hex(pos)} length ${hex(len)} ioendflags (${flags}) error ${err}${v7 ? ' dev 1' : ''} new_addr ${hex((DISK_BASE + pos) / 512)}`, 1);
      if (failed || unwritten) {
        const req = send(WBDONE, 4093, 'FUSE_IOMAP_IOEND', v7 ? 88 : 80);
        serverTakes(req, 4093, 'FUSE_IOMAP_IOEND');
        reply(req, v7 ? 24 : 16);
      }
      if (!failed) kernelInval(WBDONE, pos, len, 'ioend');
    });
    batch++;
  };

  const writes = opts.writes ?? 56;
  for (let i = 0; i < writes; i++) {
    write(i % 5 === 4 ? FIO2 : FIO, Math.floor(rand() * (FILE_BYTES / BLOCK)) * BLOCK);
    if (i % WRITES_PER_FLUSH === WRITES_PER_FLUSH - 1) writeback();
    if (i === 30) {
      // Writeback finds its cached mapping stale (an ioend bumped ic_seq): cache_stale.
      line(WB, 'fuse_iomap_invalid', `${INODE(12)}${MAP('', 0, CHUNK, 'mapped', 0, diskAddr(0))} old_cookie ${hex(seq - 1)} new_cookie ${hex(seq)}`, 10);
      ex.stale++;
    }
    if (i === 40) {
      // The server drops a read-fork range itself: notify + one remove.
      const c = 3;
      line(SERVER, INVAL, `${INODE(12)} attr_ino ${hex(12)} readpos ${hex(c * CHUNK)} length ${hex(CHUNK)} writepos 0x0 length 0x0`, 10);
      ex.notifies.inval++;
      line(SERVER, 'fuse_iomap_cache_remove', `${INODE(12)} pos ${hex(c * CHUNK)} length ${hex(CHUNK)} iodir read caller fuse_iomap_inval_mappings+0x1d0/0x2a0`, 1);
      inval('server');
      cached.delete(c);
    }
  }
  if (dirty.size) writeback();

  // ---- inode 13: rejected upserts, an unknown type, a bad reply, eviction
  line(SERVER, UPSERT, `${INODE(13)} attr_ino ${hex(14)}${MAP('read', 0, CHUNK, 'mapped', 1, diskAddr(0x200000))}${MAP('write', 0, 0, 'nocache', 0, NULL)}`, 20);
  ex.notifies.upsert++; ex.upserts.rejected++;
  line(SERVER, UPSERT, `${INODE(13)} attr_ino ${hex(13)}${MAP('read', 0, CHUNK, 'mapped', 1, hex(0x7ffff000000))}${MAP('write', 0, 0, 'nocache', 0, NULL)}`, 20);
  line(SERVER, 'fuse_iomap_bad_data', 'func fuse_iomap_upsert_validate line 301 condition iomap->addr + iomap->length > bdev_nr_bytes', 1);
  ex.notifies.upsert++; ex.upserts.rejected++; ex.badData++;
  line(SERVER, UPSERT, `${INODE(13)} attr_ino ${hex(13)}${MAP('read', 0, CHUNK, 'retry', 0, NULL)}${MAP('write', 0, 0, 'nocache', 0, NULL)}`, 20);
  ex.notifies.upsert++; ex.upserts.rejected++;

  // A direct read: no cache on 13 (every upsert was refused), so no lookups; the reply's type is a string fusescope does not know.
  line(FIO2, 'fuse_iomap_direct_read', `${INODE(13)} pos 0x1000 length 0x1000`, 30);
  line(FIO2, 'fuse_iomap_begin', `${INODE(13)} opflags (direct) pos 0x1000 length 0x1000`);
  stepBegin(FIO2);
  let req = send(FIO2, 4094, 'FUSE_IOMAP_BEGIN', 72);
  serverTakes(req, 4094, 'FUSE_IOMAP_BEGIN');
  reply(req, 80);
  line(FIO2, 'fuse_iomap_read_map', `${INODE(13)}${MAP('', 0, 0x10000, 'cow', 1, diskAddr(0x200000))}`, 2);
  ex.unknownTypes++;
  line(FIO2, 'fuse_iomap_write_map', `${INODE(13)}${MAP('', 0, 0x10000, 'overwrite', 0, NULL)}`, 0);
  line(FIO2, 'fuse_iomap_direct_read_end', `${INODE(13)} pos 0x1000 length 0x1000 ret 0x1000`, 40);
  closeStep(FIO2);
  // A direct write whose reply fails validation: bad_data, begin_error -117, the syscall's -117 exit.
  line(FIO2, 'fuse_iomap_direct_write', `${INODE(13)} pos 0x5000 length 0x1000`, 30);
  line(FIO2, 'fuse_iomap_begin', `${INODE(13)} opflags (write|direct) pos 0x5000 length 0x1000`);
  stepBegin(FIO2);
  req = send(FIO2, 4094, 'FUSE_IOMAP_BEGIN', 72);
  serverTakes(req, 4094, 'FUSE_IOMAP_BEGIN');
  reply(req, 80);
  line(FIO2, 'fuse_iomap_read_map', `${INODE(13)}${MAP('', 0x6000, 0x1000, 'mapped', 1, diskAddr(0x206000))}`, 2);
  line(FIO2, 'fuse_iomap_write_map', `${INODE(13)}${MAP('', 0x6000, 0x1000, 'overwrite', 0, NULL)}`, 0);
  line(FIO2, 'fuse_iomap_bad_data', 'func fuse_iomap_validate line 412 condition iomap->offset > pos', 1);
  ex.badData++;
  line(FIO2, 'fuse_iomap_begin_error', `${INODE(13)} opflags (write|direct) pos 0x5000 length 0x1000 err -117`, 1);
  closeStep(FIO2);
  line(FIO2, 'fuse_iomap_direct_write_end', `${INODE(13)} pos 0x5000 length 0x1000 ret 0xffffffffffffff8b`, 5);
  line(FIO2, 'fuse_iomap_evict_inode', `${INODE(13)} state (excl|iomap)`, 100);
  line(FIO2, 'fuse_iomap_cache_free', `${INODE(13)} state (excl|iomap)`, 1);
  bump(ex.dropsByReason, 'evict', 2);

  // ---- truncate to 512 KiB, then an O_TRUNC open: kernel invalidations of both forks
  const half = FILE_BYTES / 2;
  line(TRUNC, 'fuse_iomap_truncate_down', `${INODE(12)} pos ${hex(half)} length ${hex(FILE_BYTES - half)}`, 50);
  isize.set(12, half);
  line(TRUNC, 'fuse_iomap_setsize_finish', `${INODE(12)} pos ${hex(half)} length 0x0`);
  kernelInval(TRUNC, half, FILE_BYTES - half, 'truncate');
  line(SH, 'fuse_iomap_open_truncate', INODE(12), 50);
  isize.set(12, 0);
  idisk.set(12, 0);
  kernelInval(SH, 0, 0x7ffffffffffff000, 'o_trunc');
  for (let i = 0; i < 6; i++) write(FIO, i * BLOCK);
  writeback();

  const header = [
    `# Generated by src/trace/testing/series-trace.ts (seriesTrace({version: '${version}', layout: '${layout}'}); scripts/gen-series-fixtures.ts):`,
    `# a fuse4fs-like random buffered-write run with writeback, written line by line from the fuse-iomap series'`,
    `# ${version} tracepoint formats (fs/fuse/fuse_trace.h as posted to linux-fsdevel; docs/import.md). Not captured.`,
    ...(v7 ? [] : ['# v6 formats (no idisksize, fuse_iomap_upsert/_inval, ioend without dev) on the v7 run\'s sequence of events.']),
  ];
  const text = [...header, ...(layout === 'report' ? ['version = 7', 'cpus=8'] : []), ...lines].join('\n') + '\n';
  const { hits, misses } = ex.lookups;
  ex.hitRate = hits / (hits + misses);
  return { text, expect: ex };
}
