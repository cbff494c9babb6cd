// Where libfuse 3 handles a request, in a library without debug symbols.
//
// fuse-3.x's loops (lib/fuse_loop.c, lib/fuse_loop_mt.c) call fuse_session_process_buf_int(se, buf,
// ch), which is not exported. The exported fuse_session_process_buf(se, buf) is only
//     void fuse_session_process_buf(se, buf) { fuse_session_process_buf_int(se, buf, NULL); }
// (lib/fuse_lowlevel.c), so its machine code names the internal function's address: clear the third
// argument register, then a tail jump (or a call and return) with a 32-bit relative displacement.
// When the file still has a .symtab, its fuse_session_process_buf_int is used directly instead.
//
// Only the exact byte sequences below are accepted (x86-64, Intel SDM vol. 2: XOR 31/33, MOV B8+r,
// JMP E9/EB, CALL E8, RET C3, SUB/ADD 48 83 EC/C4 ib, ENDBR64 F3 0F 1E FA). Anything else is refused
// with the bytes seen — an address guessed from code we do not understand would put the probe in
// the middle of some other function.
import { readFileSync } from 'node:fs';
import { fileOffsetOf, type ElfInfo } from './elf.ts';

export const WRAPPER = 'fuse_session_process_buf';
export const INTERNAL = 'fuse_session_process_buf_int';
/** An exported loop that calls the internal function directly in fuse-3.x (lib/fuse_loop.c). */
const LOOP = 'fuse_session_loop';

export interface Libfuse3Entry {
  /** The internal function's virtual address. */
  vaddr: bigint;
  /** How it was found, for the log and the docs. */
  how: string;
}

export class EntryRefused extends Error {}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** `n` bytes of the file at virtual address `vaddr`, or null outside the loaded segments. */
function bytesAt(file: Buffer, elf: ElfInfo, vaddr: bigint, n: number): Buffer | null {
  const off = fileOffsetOf(elf, vaddr);
  if (off === null || Number(off) + n > file.length) return null;
  return file.subarray(Number(off), Number(off) + n);
}

function inExecutableLoad(elf: ElfInfo, vaddr: bigint): boolean {
  return elf.loads.some((l) => l.executable && vaddr >= l.vaddr && vaddr < l.vaddr + l.filesz);
}

/** Prefixes that clear %edx/%rdx (the third argument, `ch = NULL`). */
const CLEAR_RDX: ReadonlyArray<readonly number[]> = [
  [0x31, 0xd2], // xor %edx,%edx
  [0x33, 0xd2], // xor %edx,%edx (the other encoding)
  [0x48, 0x31, 0xd2], // xor %rdx,%rdx
  [0x48, 0x33, 0xd2],
  [0xba, 0x00, 0x00, 0x00, 0x00], // mov $0x0,%edx
];

function startsWith(b: Uint8Array, at: number, seq: readonly number[]): boolean {
  return seq.every((x, i) => b[at + i] === x);
}

/**
 * Decodes the wrapper's code at `vaddr` (its first bytes): the internal function's address, or
 * null with the reason. Accepted: [endbr64] clear-%rdx, then `jmp rel32` | `jmp rel8` |
 * `call rel32; ret` | `sub $8,%rsp; call rel32; add $8,%rsp; ret`.
 */
export function decodeWrapper(code: Uint8Array, vaddr: bigint): { target: bigint; sequence: string } | { refused: string } {
  let at = 0;
  const parts: string[] = [];
  if (startsWith(code, 0, [0xf3, 0x0f, 0x1e, 0xfa])) { at = 4; parts.push('endbr64'); }
  const clear = CLEAR_RDX.find((s) => startsWith(code, at, s));
  if (!clear) return { refused: `does not begin by clearing the third argument (%rdx = NULL); bytes ${hex(code.subarray(0, 16))}` };
  at += clear.length;
  parts.push(clear[0] === 0xba ? 'mov $0,%edx' : clear.length === 3 ? 'xor %rdx,%rdx' : 'xor %edx,%edx');
  const rel32 = (p: number): bigint => BigInt(Buffer.from(code.buffer, code.byteOffset + p, 4).readInt32LE(0));
  if (code[at] === 0xe9) {
    parts.push('jmp rel32');
    return { target: vaddr + BigInt(at + 5) + rel32(at + 1), sequence: parts.join('; ') };
  }
  if (code[at] === 0xeb) {
    parts.push('jmp rel8');
    const d = code[at + 1]! >= 0x80 ? code[at + 1]! - 0x100 : code[at + 1]!;
    return { target: vaddr + BigInt(at + 2 + d), sequence: parts.join('; ') };
  }
  if (code[at] === 0xe8 && code[at + 5] === 0xc3) {
    parts.push('call rel32; ret');
    return { target: vaddr + BigInt(at + 5) + rel32(at + 1), sequence: parts.join('; ') };
  }
  if (startsWith(code, at, [0x48, 0x83, 0xec, 0x08, 0xe8]) && startsWith(code, at + 9, [0x48, 0x83, 0xc4, 0x08, 0xc3])) {
    parts.push('sub $8,%rsp; call rel32; add $8,%rsp; ret');
    return { target: vaddr + BigInt(at + 9) + rel32(at + 5), sequence: parts.join('; ') };
  }
  return { refused: `after ${parts.join('; ')} comes no tail jump or call-and-return to the internal function; bytes ${hex(code.subarray(0, 16))}` };
}

/** True when the function at `fnVaddr` (size bytes) has a `call rel32` (E8) to `target`. */
function calls(code: Uint8Array, fnVaddr: bigint, target: bigint): boolean {
  for (let i = 0; i + 5 <= code.length; i++) {
    if (code[i] !== 0xe8) continue;
    const d = BigInt(Buffer.from(code.buffer, code.byteOffset + i + 1, 4).readInt32LE(0));
    if (fnVaddr + BigInt(i + 5) + d === target) return true;
  }
  return false;
}

/**
 * The address of fuse_session_process_buf_int in the libfuse 3 at `path` (already read as `elf`):
 * from .symtab when present, else decoded from the exported wrapper and confirmed by
 * fuse_session_loop calling the same address. Throws EntryRefused with the reason otherwise.
 */
export function libfuse3Entry(path: string, elf: ElfInfo): Libfuse3Entry {
  const file = readFileSync(path);
  const internal = elf.symbols.get(INTERNAL);
  if (internal && internal.type === 2 && internal.value !== 0n) {
    if (!inExecutableLoad(elf, internal.value)) throw new EntryRefused(`${INTERNAL} (.symtab) at 0x${internal.value.toString(16)} is in no executable segment`);
    return { vaddr: internal.value, how: `${INTERNAL} from .symtab` };
  }
  const w = elf.symbols.get(WRAPPER);
  if (!w || w.type !== 2) throw new EntryRefused(`no function symbol ${WRAPPER}`);
  const code = bytesAt(file, elf, w.value, 16);
  if (code === null) throw new EntryRefused(`${WRAPPER} at 0x${w.value.toString(16)} is in no loaded segment`);
  const d = decodeWrapper(code, w.value);
  if ('refused' in d) throw new EntryRefused(`${WRAPPER} is not the wrapper fusescope knows (fuse-3.x: ${INTERNAL}(se, buf, NULL)): it ${d.refused}`);
  if (!inExecutableLoad(elf, d.target)) throw new EntryRefused(`${WRAPPER} jumps to 0x${d.target.toString(16)}, outside every executable segment`);
  // A second witness: fuse_loop.c's loop calls the same function (fuse_session_process_buf_int(se, &fbuf, NULL)).
  const loop = elf.symbols.get(LOOP);
  const loopCode = loop && loop.type === 2 && loop.size > 0n ? bytesAt(file, elf, loop.value, Number(loop.size)) : null;
  if (loop === undefined || loopCode === null || !calls(loopCode, loop.value, d.target)) {
    throw new EntryRefused(`${WRAPPER} goes to 0x${d.target.toString(16)}, but ${LOOP} does not call that address (fuse-3.x's loop calls ${INTERNAL}): not placing a probe there`);
  }
  return { vaddr: d.target, how: `${INTERNAL} at 0x${d.target.toString(16)}, decoded from ${WRAPPER} (${d.sequence}) and called by ${LOOP}` };
}
