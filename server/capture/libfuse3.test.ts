// libfuse 3's request entry, found without debug symbols, checked against objdump's disassembly of
// the real Debian libfuse3 (an independent decoder), and the refusals of made-up copies. No tracefs.
// Skipped loudly without the library or binutils.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readElf } from './elf.ts';
import { libfuseProbes } from './libfuse.ts';
import { decodeWrapper, libfuse3Entry } from './libfuse3-entry.ts';

const LIB3 = '/usr/lib/x86_64-linux-gnu/libfuse3.so.3';
const has = (cmd: string): boolean => { try { execFileSync(cmd, ['--version']); return true; } catch { return false; } };
const whyNot = (() => {
  try { readFileSync(LIB3); } catch { return `no ${LIB3} (Debian libfuse3-3)`; }
  return !has('objdump') || !has('readelf') || !has('objcopy') ? 'no objdump/readelf/objcopy (binutils)' : null;
})();
if (whyNot) console.warn(`\n*** SKIPPED libfuse 3 entry tests in server/capture/libfuse3.test.ts: ${whyNot} — the libfuse 3 uprobe entry is NOT tested here ***\n`);

/** readelf's address of a defined dynamic FUNC (default version). */
function readelfAddr(path: string, name: string): bigint {
  const text = execFileSync('readelf', ['-Ws', '--dyn-syms', path], { encoding: 'utf8' });
  const line = text.split('\n').find((l) => l.trim().split(/\s+/)[7] === `${name}@@FUSE_3.0`);
  return BigInt(`0x${line!.trim().split(/\s+/)[1]}`);
}

/** The file offset of a virtual address, by readelf's PT_LOAD rows. */
function fileOffset(path: string, va: bigint): bigint {
  const loads = execFileSync('readelf', ['-lW', path], { encoding: 'utf8' }).split('\n').filter((l) => /^\s*LOAD\s/.test(l))
    .map((l) => { const f = l.trim().split(/\s+/); return { off: BigInt(f[1]!), va: BigInt(f[2]!), sz: BigInt(f[4]!) }; });
  const s = loads.find((l) => va >= l.va && va < l.va + l.sz)!;
  return va - s.va + s.off;
}

/** objdump's disassembly of [from, from+len): `addr: bytes  mnemonic operands` lines. */
function objdump(path: string, from: bigint, len: number): string[] {
  return execFileSync('objdump', ['-d', `--start-address=0x${from.toString(16)}`, `--stop-address=0x${(from + BigInt(len)).toString(16)}`, path], { encoding: 'utf8' })
    .split('\n').filter((l) => /^\s*[0-9a-f]+:\t/.test(l));
}

function copyWith(dir: string, name: string, edit: (b: Buffer) => void): string {
  const b = readFileSync(LIB3);
  edit(b);
  const p = join(dir, name);
  writeFileSync(p, b);
  return p;
}

function replaceAll(b: Buffer, from: string, to: string): void {
  const f = Buffer.from(from, 'latin1');
  let n = 0;
  for (let i = b.indexOf(f); i >= 0; i = b.indexOf(f, i + 1)) { b.write(to, i, 'latin1'); n++; }
  expect(n).toBeGreaterThan(0);
}

describe('decoding the wrapper: only the sequences it knows', () => {
  // Targets worked out by hand: target = address of the next instruction + signed displacement.
  it('takes xor+jmp, endbr64 first, call+ret, the stack-aligned call, a short jmp back', () => {
    expect(decodeWrapper(Uint8Array.from([0x31, 0xd2, 0xe9, 0x29, 0xf7, 0xff, 0xff]), 0x1a640n))
      .toEqual({ target: 0x1a647n - 0x8d7n, sequence: 'xor %edx,%edx; jmp rel32' });
    expect(decodeWrapper(Uint8Array.from([0xf3, 0x0f, 0x1e, 0xfa, 0x31, 0xd2, 0xe9, 0x10, 0x00, 0x00, 0x00]), 0x1000n))
      .toEqual({ target: 0x100bn + 0x10n, sequence: 'endbr64; xor %edx,%edx; jmp rel32' });
    expect(decodeWrapper(Uint8Array.from([0xba, 0, 0, 0, 0, 0xe8, 0x00, 0x01, 0x00, 0x00, 0xc3]), 0x2000n))
      .toEqual({ target: 0x200an + 0x100n, sequence: 'mov $0,%edx; call rel32; ret' });
    expect(decodeWrapper(Uint8Array.from([0x31, 0xd2, 0x48, 0x83, 0xec, 0x08, 0xe8, 0xf0, 0xff, 0xff, 0xff, 0x48, 0x83, 0xc4, 0x08, 0xc3]), 0x3000n))
      .toEqual({ target: 0x300bn - 0x10n, sequence: 'xor %edx,%edx; sub $8,%rsp; call rel32; add $8,%rsp; ret' });
    expect(decodeWrapper(Uint8Array.from([0x48, 0x31, 0xd2, 0xeb, 0xfb]), 0x4000n)).toEqual({ target: 0x4005n - 5n, sequence: 'xor %rdx,%rdx; jmp rel8' });
  });

  it('refuses anything else, showing the bytes: a frame set-up first, %rdx left alone, a call not followed by ret', () => {
    const push = decodeWrapper(Uint8Array.from([0x55, 0x48, 0x89, 0xe5, 0x31, 0xd2, 0xe9, 0, 0, 0, 0]), 0n);
    expect(push).toEqual({ refused: expect.stringMatching(/^does not begin by clearing the third argument .* bytes 55 48 89 e5 31 d2 e9/) });
    expect(decodeWrapper(Uint8Array.from([0xe9, 0, 0, 0, 0]), 0n)).toHaveProperty('refused');
    expect(decodeWrapper(Uint8Array.from([0x31, 0xd2, 0xe8, 0, 0, 0, 0, 0x90]), 0n))
      .toEqual({ refused: expect.stringMatching(/^after xor %edx,%edx comes no tail jump/) });
  });
});

describe.skipIf(whyNot !== null)('libfuse 3.14 (Debian libfuse3-3): the request entry without debug symbols', () => {
  it('finds fuse_session_process_buf_int where objdump says the exported wrapper jumps, and fuse_session_loop calls it', () => {
    const w = readelfAddr(LIB3, 'fuse_session_process_buf');
    // objdump: `xor %edx,%edx` then `jmp <target> <…>`.
    const lines = objdump(LIB3, w, 7);
    expect(lines[0]).toMatch(/\txor\s+%edx,%edx$/);
    const target = BigInt(`0x${/\tjmp\s+([0-9a-f]+) /.exec(lines[1]!)![1]}`);
    const found = libfuse3Entry(LIB3, readElf(LIB3));
    expect(found.vaddr).toBe(target);
    expect(found.how).toContain('decoded from fuse_session_process_buf (xor %edx,%edx; jmp rel32)');
    // The loop of lib/fuse_loop.c calls the same address (objdump of the whole function, by readelf's size).
    const loop = readelfAddr(LIB3, 'fuse_session_loop');
    const size = Number(execFileSync('readelf', ['-Ws', '--dyn-syms', LIB3], { encoding: 'utf8' }).split('\n')
      .find((l) => / fuse_session_loop@@FUSE_3\.0$/.test(l))!.trim().split(/\s+/)[2]);
    expect(objdump(LIB3, loop, size).some((l) => new RegExp(`\\tcall\\s+${target.toString(16)} `).test(l))).toBe(true);
    // The probe sits at that address's file offset.
    const recv = libfuseProbes(LIB3).probes.find((p) => p.event === 'libfuse_recv')!;
    expect(recv.definition).toContain(` ${LIB3}:0x${fileOffset(LIB3, target).toString(16)} `);
  });

  it('reads the 3.x layouts: fuse_buf.mem 16 and flags 8 under %si, fuse_req.unique 8, fuse_entry_param.attr 16, stat st_ino 8 / st_nlink 16', () => {
    const p = libfuseProbes(LIB3);
    expect(p.layout).toMatch(/^libfuse 3\.12–3\.16/);
    const defs = new Map(p.probes.map((x) => [x.event, x]));
    expect(defs.get('libfuse_recv')!.definition).toContain('unique=+8(+16(%si)):u64 opcode=+4(+16(%si)):u32 nodeid=+16(+16(%si)):u64 pid=+32(+16(%si)):u32 bufflags=+8(%si):u32');
    expect(defs.get('libfuse_recv')!.filter).toBe('bufflags == 0');
    // Spliced buffers (FUSE_BUF_IS_FD): the same address, counted, nothing read through buf->mem.
    expect(defs.get('libfuse_recv_fd')!.definition).toMatch(/ bufflags=\+8\(%si\):u32 size=\+0\(%si\):u64$/);
    expect(defs.get('libfuse_recv_fd')!.filter).toBe('bufflags != 0');
    expect(defs.get('libfuse_reply_entry')!.definition).toContain('unique=+8(%di):u64 nodeid=+0(%si):u64 ino=+24(%si):u64 nlink=+32(%si):u64');
    expect(defs.get('libfuse_reply_create')!.definition).toContain('unique=+8(%di):u64 nodeid=+0(%si):u64 ino=+24(%si):u64 nlink=+32(%si):u64');
    expect(defs.get('libfuse_reply_attr')!.definition).toContain('unique=+8(%di):u64 st_ino=+8(%si):u64 nlink=+16(%si):u64');
    for (const s of ['fuse_reply_entry', 'fuse_reply_create', 'fuse_reply_attr']) {
      const ev = `libfuse_${s.slice('fuse_'.length)}`;
      expect(defs.get(ev)!.definition, s).toContain(` ${LIB3}:0x${fileOffset(LIB3, readelfAddr(LIB3, s)).toString(16)} `);
    }
  });

  it('uses .symtab when the file has one (a copy with the symbol added by objcopy), even where it disagrees with the wrapper', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fusescope-libfuse3-'));
    try {
      const text = execFileSync('readelf', ['-SW', LIB3], { encoding: 'utf8' }).split('\n').find((l) => / \.text\s/.test(l))!;
      const textAddr = BigInt(`0x${/PROGBITS\s+([0-9a-f]+)/.exec(text)![1]}`);
      const real = libfuse3Entry(LIB3, readElf(LIB3)).vaddr;
      for (const [name, at] of [['same.so.3', real], ['other.so.3', real + 0x40n]] as const) {
        const p = join(dir, name);
        execFileSync('objcopy', ['--add-symbol', `fuse_session_process_buf_int=.text:0x${(at - textAddr).toString(16)},function,global`, LIB3, p]);
        const e = libfuse3Entry(p, readElf(p));
        expect(e).toEqual({ vaddr: at, how: 'fuse_session_process_buf_int from .symtab' });
      }
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('refuses made-up copies with the reason: another SONAME, no FUSE_3.12, a newer version node, wrapper bytes it does not know', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fusescope-libfuse3-'));
    try {
      expect(() => libfuseProbes(copyWith(dir, 'a.so', (b) => replaceAll(b, 'libfuse3.so.3\0', 'libfuze3.so.3\0'))))
        .toThrow(/SONAME libfuze3\.so\.3 is not a libfuse whose struct offsets fusescope knows/);
      expect(() => libfuseProbes(copyWith(dir, 'b.so', (b) => replaceAll(b, 'FUSE_3.12\0', 'FUSE_3.99\0'))))
        .toThrow(/no symbol version FUSE_3\.12/);
      expect(() => libfuseProbes(copyWith(dir, 'c.so', (b) => replaceAll(b, 'FUSE_3.4\0', 'FUSE_9.4\0'))))
        .toThrow(/its newest symbol version is FUSE_9\.4, not FUSE_3\.12/);
      const w = fileOffset(LIB3, readelfAddr(LIB3, 'fuse_session_process_buf'));
      const at = Number(w);
      // `xor %edx,%edx` → two NOPs: the third argument is no longer NULL.
      expect(() => libfuseProbes(copyWith(dir, 'd.so', (b) => { expect(b[at]).toBe(0x31); b[at] = 0x90; b[at + 1] = 0x90; })))
        .toThrow(/fuse_session_process_buf is not the wrapper fusescope knows .* bytes 90 90 e9/);
      // jmp → call with no ret after it.
      expect(() => libfuseProbes(copyWith(dir, 'e.so', (b) => { expect(b[at + 2]).toBe(0xe9); b[at + 2] = 0xe8; })))
        .toThrow(/comes no tail jump or call-and-return/);
      // The jump displaced by 16 bytes: a decodable wrapper, but not to the function the loop calls.
      expect(() => libfuseProbes(copyWith(dir, 'f.so', (b) => { b.writeInt32LE(b.readInt32LE(at + 3) + 16, at + 3); })))
        .toThrow(/but fuse_session_loop does not call that address/);
      // The unchanged copy is accepted (the refusals are the edits, not the copying).
      expect(libfuseProbes(copyWith(dir, 'g.so', () => {})).probes).toHaveLength(5);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
