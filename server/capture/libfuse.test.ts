// The ELF reader and the libfuse offsets table against the real Debian libfuse (skipped loudly when
// it or binutils is missing): every symbol offset is compared with what `readelf -Ws` prints, an
// independent reader; made-up copies of the library are refused with the reason.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileOffsetOf, readElf } from './elf.ts';
import { libfuseProbes } from './libfuse.ts';
import { TracefsError } from './tracefs.ts';

const LIB2 = '/usr/lib/x86_64-linux-gnu/libfuse.so.2';
const hasReadelf = (() => { try { execFileSync('readelf', ['--version']); return true; } catch { return false; } })();
const whyNot = !existsSync(LIB2) ? `no ${LIB2} (Debian libfuse2)` : !hasReadelf ? 'no readelf (binutils)' : null;
if (whyNot) console.warn(`\n*** SKIPPED server/capture/libfuse.test.ts: ${whyNot} — the libfuse uprobe offsets are NOT tested here ***\n`);

/** `readelf -Ws` of the dynamic symbols: name → value of its default version (`@@`, or unversioned), for defined FUNCs. */
function readelfFuncs(path: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const text = execFileSync('readelf', ['-Ws', '--dyn-syms', path], { encoding: 'utf8' });
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // Num: Value Size Type Bind Vis Ndx Name
    if (f.length < 8 || f[3] !== 'FUNC' || f[6] === 'UND') continue;
    if (/[^@]@[^@]/.test(f[7]!)) continue; // name@VER: a hidden compat version
    const name = f[7]!.replace(/@.*$/, '');
    // name@@VER is the default; a plain `name` (no named version) only when there is no @@ one.
    if (f[7]!.includes('@@') || !out.has(name)) out.set(name, BigInt(`0x${f[1]}`));
  }
  return out;
}

/** A copy of the library with `from` replaced by `to` (same length) wherever it occurs. */
function patched(dir: string, name: string, from: string, to: string): string {
  const b = readFileSync(LIB2);
  const f = Buffer.from(from, 'latin1');
  let n = 0;
  for (let i = b.indexOf(f); i >= 0; i = b.indexOf(f, i + 1)) {
    b.write(to, i, 'latin1');
    n++;
  }
  expect(n).toBeGreaterThan(0);
  const p = join(dir, name);
  writeFileSync(p, b);
  return p;
}

describe.skipIf(whyNot !== null)('libfuse uprobes', () => {
  it('reads every exported function of libfuse.so.2 at the address readelf prints, and its SONAME and versions', () => {
    const elf = readElf(LIB2);
    const ref = readelfFuncs(LIB2);
    expect(ref.size).toBeGreaterThan(100);
    for (const [name, value] of ref) expect(elf.symbols.get(name)?.value, name).toBe(value);
    expect(elf.soname).toBe('libfuse.so.2');
    const soname = /\(SONAME\)\s+Library soname: \[([^\]]+)\]/.exec(execFileSync('readelf', ['-d', LIB2], { encoding: 'utf8' }))![1];
    expect(elf.soname).toBe(soname);
    expect(elf.versionDefs).toContain('FUSE_2.9');
  });

  it('places the probes at the file offsets of the functions readelf names (vaddr → offset by the PT_LOAD segments)', () => {
    const ref = readelfFuncs(LIB2);
    // The PT_LOADs as readelf prints them: `LOAD Offset VirtAddr PhysAddr FileSiz MemSiz Flg Align`.
    const loads = execFileSync('readelf', ['-lW', LIB2], { encoding: 'utf8' }).split('\n').filter((l) => /^\s*LOAD\s/.test(l))
      .map((l) => { const f = l.trim().split(/\s+/); return { off: BigInt(f[1]!), va: BigInt(f[2]!), sz: BigInt(f[4]!) }; });
    const fileOff = (va: bigint): bigint => { const s = loads.find((l) => va >= l.va && va < l.va + l.sz)!; return va - s.va + s.off; };
    const probes = libfuseProbes(LIB2).probes;
    const where = (event: string): string => /\s(\S+:0x[0-9a-f]+)\s/.exec(probes.find((p) => p.event === event)!.definition)![1]!;
    expect(where('libfuse_recv')).toBe(`${LIB2}:0x${fileOff(ref.get('fuse_session_process_buf')!).toString(16)}`);
    expect(where('libfuse_reply_entry')).toBe(`${LIB2}:0x${fileOff(ref.get('fuse_reply_entry')!).toString(16)}`);
    expect(where('libfuse_reply_create')).toBe(`${LIB2}:0x${fileOff(ref.get('fuse_reply_create')!).toString(16)}`);
    expect(where('libfuse_reply_attr')).toBe(`${LIB2}:0x${fileOff(ref.get('fuse_reply_attr')!).toString(16)}`);
    const elf = readElf(LIB2);
    expect(fileOffsetOf(elf, ref.get('fuse_reply_attr')!)).toBe(fileOff(ref.get('fuse_reply_attr')!));
  });

  it('reads the request header through fuse_buf.mem and the entry reply\'s st_ino inside fuse_entry_param (x86_64 layouts)', () => {
    const defs = new Map(libfuseProbes(LIB2).probes.map((p) => [p.event, p.definition]));
    // fuse_buf.mem is at 16 (size_t size, enum flags padded to 8); the header's unique at 8, nodeid at 16.
    expect(defs.get('libfuse_recv')).toContain('unique=+8(+16(%si)):u64');
    expect(defs.get('libfuse_recv')).toContain('nodeid=+16(+16(%si)):u64');
    expect(defs.get('libfuse_recv')).toContain('opcode=+4(+16(%si)):u32');
    // fuse_entry_param: ino 0, generation 8, struct stat at 16, whose st_ino is at 8 → 24, st_nlink 16 → 32.
    expect(defs.get('libfuse_reply_entry')).toContain('nodeid=+0(%si):u64 ino=+24(%si):u64 nlink=+32(%si):u64');
    expect(defs.get('libfuse_reply_attr')).toContain('st_ino=+8(%si):u64');
  });

  it('refuses a libfuse it does not know: another SONAME, a missing version, not a library', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fusescope-libfuse-'));
    try {
      const other = patched(dir, 'libfuze.so.2', 'libfuse.so.2\0', 'libfuze.so.2\0');
      expect(() => libfuseProbes(other)).toThrow(TracefsError);
      expect(() => libfuseProbes(other)).toThrow(/SONAME libfuze\.so\.2 is not a libfuse whose struct offsets fusescope knows/);
      const noVersion = patched(dir, 'libfuse.so.2', 'FUSE_2.9\0', 'FUSE_7.9\0');
      expect(() => libfuseProbes(noVersion)).toThrow(/no symbol version FUSE_2\.9/);
      const text = join(dir, 'not-elf');
      writeFileSync(text, 'hello');
      expect(() => libfuseProbes(text)).toThrow(/not an ELF file/);
      copyFileSync(LIB2, join(dir, 'same.so'));
      // libfuse_recv, libfuse_recv_fd (spliced buffers, counted), the three replies.
      expect(libfuseProbes(join(dir, 'same.so')).probes).toHaveLength(5);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
