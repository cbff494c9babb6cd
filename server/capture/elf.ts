// A minimal ELF64 little-endian reader: what a uprobe needs from a shared library, read from the
// file itself (no readelf at run time). Formats: the System V gABI "Object Files" chapter (ELF
// header, program headers, section headers, symbol tables, dynamic section) and the GNU symbol
// versioning sections (.gnu.version_d).
import { readFileSync } from 'node:fs';

export interface ElfSymbol {
  name: string;
  /** st_value: the symbol's virtual address in the object. */
  value: bigint;
  size: bigint;
  /** STT_* (2: FUNC). */
  type: number;
  /** STB_* (1: GLOBAL, 2: WEAK). */
  bind: number;
  /** 0: undefined here (imported). */
  shndx: number;
}

export interface ElfLoad { offset: bigint; vaddr: bigint; filesz: bigint; executable: boolean }

export interface ElfInfo {
  soname: string | null;
  /** Version names this object defines (.gnu.version_d), e.g. FUSE_2.9. */
  versionDefs: string[];
  /**
   * Defined symbols of .dynsym (the default version of each: compat versions left out), and of
   * .symtab when the file still has one (by name; .dynsym wins).
   */
  symbols: Map<string, ElfSymbol>;
  loads: ElfLoad[];
}

export class ElfError extends Error {}

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const SHT_DYNAMIC = 6;
const SHT_GNU_VERDEF = 0x6ffffffd;
const SHT_GNU_VERSYM = 0x6fffffff;
/** A .gnu.version entry with this bit is a hidden (non-default, `name@VER`) version: a link never binds to it. */
const VERSYM_HIDDEN = 0x8000;
const PT_LOAD = 1;
const PF_X = 1;
const DT_SONAME = 14;

function cstr(b: Buffer, at: number): string {
  let e = at;
  while (e < b.length && b[e] !== 0) e++;
  return b.toString('latin1', at, e);
}

export function readElf(path: string): ElfInfo {
  const b = readFileSync(path);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) throw new ElfError(`${path}: not an ELF file`);
  if (b[4] !== 2 || b[5] !== 1) throw new ElfError(`${path}: not ELF64 little-endian (class ${b[4]}, data ${b[5]})`);
  const phoff = Number(b.readBigUInt64LE(0x20));
  const shoff = Number(b.readBigUInt64LE(0x28));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const loads: ElfLoad[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (b.readUInt32LE(p) !== PT_LOAD) continue;
    loads.push({
      executable: (b.readUInt32LE(p + 4) & PF_X) !== 0, offset: b.readBigUInt64LE(p + 8),
      vaddr: b.readBigUInt64LE(p + 16), filesz: b.readBigUInt64LE(p + 32),
    });
  }
  interface Sec { type: number; offset: number; size: number; link: number; entsize: number; info: number }
  const secs: Sec[] = [];
  for (let i = 0; i < shnum; i++) {
    const s = shoff + i * shentsize;
    secs.push({
      type: b.readUInt32LE(s + 4), offset: Number(b.readBigUInt64LE(s + 0x18)), size: Number(b.readBigUInt64LE(s + 0x20)),
      link: b.readUInt32LE(s + 0x28), info: b.readUInt32LE(s + 0x2c), entsize: Number(b.readBigUInt64LE(s + 0x38)),
    });
  }
  const symbols = new Map<string, ElfSymbol>();
  const versym = secs.find((s) => s.type === SHT_GNU_VERSYM);
  const hidden = new Set<string>();
  // .dynsym first: its names are the exported ones a uprobe on the library is about.
  for (const type of [SHT_DYNSYM, SHT_SYMTAB]) {
    for (const sec of secs) {
      if (sec.type !== type || sec.entsize < 24) continue;
      const strOff = secs[sec.link]!.offset;
      for (let p = sec.offset, i = 0; p + 24 <= sec.offset + sec.size; p += sec.entsize, i++) {
        const shndx = b.readUInt16LE(p + 6);
        if (shndx === 0) continue;
        // A compat version of a symbol (`fuse_reply_open@FUSE_2.5` beside `@@FUSE_2.6`) is not the one
        // callers bind to: a hidden entry (.gnu.version bit 15) gives way to the default one.
        const vs = type === SHT_DYNSYM && versym ? b.readUInt16LE(versym.offset + 2 * i) : 0;
        const isHidden = (vs & VERSYM_HIDDEN) !== 0;
        if (isHidden && (vs & 0x7fff) > 1) continue;
        const name = cstr(b, strOff + b.readUInt32LE(p));
        if (name === '') continue;
        if (symbols.has(name) && (isHidden || !hidden.has(name))) continue;
        if (isHidden) hidden.add(name);
        else hidden.delete(name);
        const info = b[p + 4]!;
        symbols.set(name, { name, type: info & 0xf, bind: info >> 4, shndx, value: b.readBigUInt64LE(p + 8), size: b.readBigUInt64LE(p + 16) });
      }
    }
  }
  let soname: string | null = null;
  const versionDefs: string[] = [];
  for (const sec of secs) {
    if (sec.type === SHT_DYNAMIC) {
      const strOff = secs[sec.link]!.offset;
      for (let p = sec.offset; p + 16 <= sec.offset + sec.size; p += 16) {
        const tag = b.readBigInt64LE(p);
        if (tag === 0n) break;
        if (tag === BigInt(DT_SONAME)) soname = cstr(b, strOff + Number(b.readBigUInt64LE(p + 8)));
      }
    } else if (sec.type === SHT_GNU_VERDEF) {
      // Elf64_Verdef: vd_cnt@6 vd_aux@12 vd_next@16; the first Elf64_Verdaux (vda_name@0) is the version's name.
      const strOff = secs[sec.link]!.offset;
      let p = sec.offset;
      for (let i = 0; i < sec.info; i++) {
        const aux = p + b.readUInt32LE(p + 12);
        versionDefs.push(cstr(b, strOff + b.readUInt32LE(aux)));
        const next = b.readUInt32LE(p + 16);
        if (next === 0) break;
        p += next;
      }
    }
  }
  return { soname, versionDefs, symbols, loads };
}

/** The file offset of a virtual address (what uprobe_events takes as PATH:OFFSET), or null outside every PT_LOAD. */
export function fileOffsetOf(elf: ElfInfo, vaddr: bigint): bigint | null {
  for (const l of elf.loads) {
    if (vaddr >= l.vaddr && vaddr < l.vaddr + l.filesz) return vaddr - l.vaddr + l.offset;
  }
  return null;
}
