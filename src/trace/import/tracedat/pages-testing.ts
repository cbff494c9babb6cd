// Hand-made ring-buffer pages for tests (pages.test.ts, server/capture/raw-reader.test.ts).

/** This kernel's events/header_page text (x86-64, 4 KiB pages). */
export const HEADER_PAGE = `\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;
\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;
\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;
\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;
`;

/** A record header: type_len in the low 5 bits, the time delta above (little-endian). */
export const hdr = (typeLen: number, delta: number): number => delta * 32 + typeLen;

/** A 4 KiB page: timestamp, commit (flags | data bytes), then the u32 words of its data. */
export function page(tsNs: number, words: number[], flags = 0, lostCount: number | null = null): Uint8Array {
  const p = new Uint8Array(4096);
  const dv = new DataView(p.buffer);
  dv.setBigUint64(0, BigInt(tsNs), true);
  dv.setBigUint64(8, BigInt((flags >>> 0) + words.length * 4), true);
  words.forEach((w, i) => dv.setUint32(16 + i * 4, w >>> 0, true));
  if (lostCount !== null) dv.setBigUint64(16 + words.length * 4, BigInt(lostCount), true);
  return p;
}
