// Which libfuse a FUSE server maps, and the uprobes that read requests and inode replies out of it.
//
// A uprobe reads raw memory at fixed offsets, so every offset below belongs to one libfuse major
// version (and x86_64, glibc). Before placing anything the library is checked: its SONAME, the
// symbol versions it defines and the symbols the probes sit on. Anything else is refused with the
// reason — a wrong offset would give wrong nodeids, which is worse than none.
//
// Offsets (bytes), each from the public source named in LAYOUTS and docs/capture.md:
//   struct fuse_buf   { size_t size@0; enum flags@8; void *mem@16; int fd@24; off_t pos@32 }
//   fuse_in_header    { u32 len@0; u32 opcode@4; u64 unique@8; u64 nodeid@16; u32 uid@24; u32 gid@28; u32 pid@32 }
//   struct fuse_req   { struct fuse_ll *f@0 (3.x: struct fuse_session *se@0); u64 unique@8; … }
//   fuse_entry_param  { fuse_ino_t ino@0; unsigned long generation@8; struct stat attr@16; … }
//   struct stat       { dev_t st_dev@0; ino_t st_ino@8; nlink_t st_nlink@16; … }   (glibc x86_64)
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { readElf, fileOffsetOf, ElfError, type ElfInfo } from './elf.ts';
import { TracefsError } from './tracefs.ts';
import { EntryRefused, libfuse3Entry } from './libfuse3-entry.ts';

/** The tracefs group the capture's uprobes are created in (events/fusescope/…). */
export const UPROBE_GROUP = 'fusescope';

export interface UprobeSpec {
  /** Event name in UPROBE_GROUP (never `fuse_*`: the ftrace parser reads those as kernel tracepoints). */
  event: string;
  /** The uprobe_events line (`p:GROUP/EVENT PATH:0xOFF args…`). */
  definition: string;
  /** ANDed with the capture's filter for this event. */
  filter?: string;
}

interface Layout {
  /** What this layout is, and where its numbers come from. */
  label: string;
  soname: string;
  /** A version definition the library must have (the symbol set of that release line). */
  requiredVersion: string;
  /**
   * When set, the newest `FUSE_*` version node the library defines must be this one: the offsets
   * were read from the releases that end there (a newer node is a newer, unchecked release).
   */
  newestVersion?: string;
  /**
   * Where the request header is reached from: the entry's argument register and fuse_buf offsets.
   * `internal`: the entry is not exported; it is found through its exported wrapper (libfuse3-entry.ts).
   */
  entry: { symbol: string; bufReg: string; memOff: number; flagsOff: number; internal?: true };
  reqUniqueOff: number;
  entryParam: { inoOff: number; attrOff: number };
  stat: { inoOff: number; nlinkOff: number };
  sources: string[];
}

/** fuse_in_header (include/linux/fuse.h, the kernel's ABI; the same in every libfuse). */
const IN_HEADER = { opcode: 4, unique: 8, nodeid: 16, pid: 32 } as const;

export const LAYOUTS: readonly Layout[] = [
  {
    label: 'libfuse 2.9 (x86_64, glibc)',
    soname: 'libfuse.so.2',
    requiredVersion: 'FUSE_2.9',
    // fuse_session_process_buf(struct fuse_session *se, const struct fuse_buf *buf, struct fuse_chan *ch):
    // the buffer is the second argument (%si); both loops of 2.9 (fuse_loop.c, fuse_loop_mt.c) call it.
    entry: { symbol: 'fuse_session_process_buf', bufReg: '%si', memOff: 16, flagsOff: 8 },
    reqUniqueOff: 8,
    entryParam: { inoOff: 0, attrOff: 16 },
    stat: { inoOff: 8, nlinkOff: 16 },
    sources: [
      'libfuse fuse-2.9.9 include/fuse_common.h (struct fuse_buf)',
      'libfuse fuse-2.9.9 lib/fuse_i.h (struct fuse_req: f, unique)',
      'libfuse fuse-2.9.9 include/fuse_lowlevel.h (struct fuse_entry_param; fuse_reply_entry/_create/_attr)',
      'libfuse fuse-2.9.9 lib/fuse_session.c, lib/fuse_loop.c, lib/fuse_loop_mt.c (fuse_session_process_buf is the loops\' entry)',
      'glibc sysdeps/unix/sysv/linux/x86/bits/struct_stat.h (x86_64 struct stat)',
      'Linux include/uapi/linux/fuse.h (struct fuse_in_header)',
    ],
  },
  {
    label: 'libfuse 3.12–3.16 (x86_64, glibc)',
    soname: 'libfuse3.so.3',
    // 3.12.0 added the FUSE_3.12 node and 3.17 (fuse-3.17.1) the next one (FUSE_3.17, lib/fuse_versionscript), with a new
    // fuse_buf field and the entry renamed fuse_session_process_buf_internal:
    // the offsets below were read from fuse-3.12.0, fuse-3.14.0 and fuse-3.16.2, the same in all three.
    requiredVersion: 'FUSE_3.12',
    newestVersion: 'FUSE_3.12',
    // fuse_session_process_buf_int(struct fuse_session *se, const struct fuse_buf *buf, struct fuse_chan *ch):
    // both loops of 3.x call it (not the exported fuse_session_process_buf); the buffer is %si.
    entry: { symbol: 'fuse_session_process_buf_int', bufReg: '%si', memOff: 16, flagsOff: 8, internal: true },
    reqUniqueOff: 8,
    entryParam: { inoOff: 0, attrOff: 16 },
    stat: { inoOff: 8, nlinkOff: 16 },
    sources: [
      'libfuse fuse-3.14.0 include/fuse_common.h (struct fuse_buf: size, flags, mem, fd, pos; enum fuse_buf_flags: FUSE_BUF_IS_FD = 1<<1)',
      'libfuse fuse-3.14.0 lib/fuse_i.h (struct fuse_req: se, unique)',
      'libfuse fuse-3.14.0 include/fuse_lowlevel.h (struct fuse_entry_param: ino, uint64_t generation, attr; fuse_reply_entry/_create/_attr)',
      'libfuse fuse-3.14.0 lib/fuse_lowlevel.c (fuse_session_process_buf wraps fuse_session_process_buf_int(se, buf, NULL))',
      'libfuse fuse-3.14.0 lib/fuse_loop.c, lib/fuse_loop_mt.c (both loops call fuse_session_process_buf_int)',
      'libfuse fuse-3.14.0 lib/fuse_versionscript (version nodes FUSE_3.0 … FUSE_3.12)',
      'glibc sysdeps/unix/sysv/linux/x86/bits/struct_stat.h (x86_64 struct stat)',
      'Linux include/uapi/linux/fuse.h (struct fuse_in_header)',
    ],
  },
];

/** `FUSE_3.12` → [3, 12]; null for other names. */
function versionNumbers(name: string): [number, number] | null {
  const m = /^FUSE_(\d+)\.(\d+)$/.exec(name);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** The newest FUSE_x.y node of a library's version definitions. */
function newestFuseVersion(defs: readonly string[]): string | null {
  let best: string | null = null;
  let bv: [number, number] = [-1, -1];
  for (const d of defs) {
    const v = versionNumbers(d);
    if (v && (v[0] > bv[0] || (v[0] === bv[0] && v[1] > bv[1]))) { best = d; bv = v; }
  }
  return best;
}

export interface LibfuseProbes {
  path: string;
  layout: string;
  soname: string;
  probes: UprobeSpec[];
  /** How the request entry was found (exported symbol, .symtab, or decoded from its wrapper). */
  entry: string;
}

/** The libfuse a process maps (/proc/PID/maps), by path; null when it maps none. */
export function libfuseOf(pid: number): string | null {
  let maps: string;
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch (e) {
    throw new TracefsError(`cannot read /proc/${pid}/maps: ${(e as Error).message}`);
  }
  for (const line of maps.split('\n')) {
    // address perms offset dev inode path
    const m = /^\S+ \S+ \S+ \S+ \d+\s+(\/.*)$/.exec(line);
    if (m && /^libfuse3?\.so/.test(basename(m[1]!))) return m[1]!.replace(/ \(deleted\)$/, '');
  }
  return null;
}

/**
 * Checks `path` against the table and builds the probes: the request entry (unique, opcode, nodeid,
 * pid from the fuse_in_header) and the three replies that name inodes. Throws TracefsError saying
 * why a library is refused.
 */
export function libfuseProbes(path: string): LibfuseProbes {
  let elf: ElfInfo;
  try {
    elf = readElf(path);
  } catch (e) {
    if (e instanceof ElfError) throw new TracefsError(`${path}: ${e.message}`);
    throw new TracefsError(`cannot read ${path}: ${(e as Error).message}`);
  }
  const layout = LAYOUTS.find((l) => l.soname === elf.soname);
  if (!layout) {
    throw new TracefsError(`${path}: SONAME ${elf.soname ?? '(none)'} is not a libfuse whose struct offsets fusescope knows ` +
      `(known: ${LAYOUTS.map((l) => `${l.soname} = ${l.label}`).join('; ')}); no uprobes placed`);
  }
  if (!elf.versionDefs.includes(layout.requiredVersion)) {
    throw new TracefsError(`${path}: SONAME ${elf.soname} but no symbol version ${layout.requiredVersion} ` +
      `(defines ${elf.versionDefs.join(', ') || 'none'}): not the ${layout.label} the offsets were taken from; no uprobes placed`);
  }
  if (layout.newestVersion !== undefined) {
    const newest = newestFuseVersion(elf.versionDefs);
    if (newest !== layout.newestVersion) {
      throw new TracefsError(`${path}: its newest symbol version is ${newest ?? 'none'}, not ${layout.newestVersion}: another release than ` +
        `the ${layout.label} the offsets were read from; no uprobes placed`);
    }
  }
  const at = (symbol: string, vaddr: bigint): string => {
    const off = fileOffsetOf(elf, vaddr);
    if (off === null) throw new TracefsError(`${path}: ${symbol} at 0x${vaddr.toString(16)} is in no loaded segment; no uprobes placed`);
    return `${path}:0x${off.toString(16)}`;
  };
  const offsetOf = (symbol: string): string => {
    const s = elf.symbols.get(symbol);
    if (!s || s.type !== 2) throw new TracefsError(`${path}: no function symbol ${symbol} (${layout.label} has it); no uprobes placed`);
    return at(symbol, s.value);
  };
  const e = layout.entry;
  let entryAt: string;
  let entryHow = `${e.symbol} (exported)`;
  if (e.internal) {
    try {
      const found = libfuse3Entry(path, elf);
      entryAt = at(e.symbol, found.vaddr);
      entryHow = found.how;
    } catch (x) {
      if (x instanceof EntryRefused) throw new TracefsError(`${path}: ${x.message}; no uprobes placed`);
      throw x;
    }
  } else entryAt = offsetOf(e.symbol);
  const mem = `+${e.memOff}(${e.bufReg})`;
  const u64 = (off: number, base: string): string => `+${off}(${base}):u64`;
  const req = '%di'; // every fuse_reply_* takes fuse_req_t first
  const stat = (base: number): string =>
    `ino=+${base + layout.stat.inoOff}(%si):u64 nlink=+${base + layout.stat.nlinkOff}(%si):u64`;
  const probes: UprobeSpec[] = [
    {
      event: 'libfuse_recv',
      definition: `p:${UPROBE_GROUP}/libfuse_recv ${entryAt} unique=${u64(IN_HEADER.unique, mem)} ` +
        `opcode=+${IN_HEADER.opcode}(${mem}):u32 nodeid=${u64(IN_HEADER.nodeid, mem)} pid=+${IN_HEADER.pid}(${mem}):u32 ` +
        `bufflags=+${e.flagsOff}(${e.bufReg}):u32`,
      // A buffer that is a pipe fd (splice, FUSE_BUF_IS_FD) has no header in memory (buf->mem may
      // still point at an earlier request's): not read, so no stale nodeid is ever taken.
      filter: 'bufflags == 0',
    },
    {
      // The same entry's other buffers, counted: requests whose nodeid stays unknown because they came spliced.
      event: 'libfuse_recv_fd',
      definition: `p:${UPROBE_GROUP}/libfuse_recv_fd ${entryAt} bufflags=+${e.flagsOff}(${e.bufReg}):u32 size=+0(${e.bufReg}):u64`,
      filter: 'bufflags != 0',
    },
  ];
  for (const [event, symbol] of [['libfuse_reply_entry', 'fuse_reply_entry'], ['libfuse_reply_create', 'fuse_reply_create']] as const) {
    probes.push({
      event,
      definition: `p:${UPROBE_GROUP}/${event} ${offsetOf(symbol)} unique=+${layout.reqUniqueOff}(${req}):u64 ` +
        `nodeid=+${layout.entryParam.inoOff}(%si):u64 ${stat(layout.entryParam.attrOff)}`,
    });
  }
  probes.push({
    event: 'libfuse_reply_attr',
    definition: `p:${UPROBE_GROUP}/libfuse_reply_attr ${offsetOf('fuse_reply_attr')} unique=+${layout.reqUniqueOff}(${req}):u64 ` +
      `st_${stat(0)}`,
  });
  return { path, layout: layout.label, soname: elf.soname!, probes, entry: entryHow };
}
