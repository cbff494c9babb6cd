// Format detection that says what it decided and why. Every format is one entry of a table
// (index.ts FORMATS): its name, what it looks for, and a `sniff` that says what one line of the
// file's head shows for it. The file's format is the entry with the earliest evidence in the head;
// on the same line, the earlier entry of the table. The explanation keeps the evidence and, for
// every other entry, why it was not chosen — `fusescope import --explain` prints it, the page's file
// panel shows its first line.

/** What one line shows for a format: a short description, or null (nothing for this format). */
export type Sniff = (line: string, lineNo: number) => string | null;

export interface FormatSniffer {
  readonly name: string;
  /** What the entry looks for, said to the user when it found nothing. */
  readonly looksFor: string;
  readonly sniff: Sniff;
}

export interface FormatEvidence {
  /** 1-based line of the head. */
  line: number;
  /** Byte offset of the line's first byte (UTF-8). */
  byteOffset: number;
  /** What matched (the entry's words). */
  what: string;
  /** The line as read (quote marks and '\r' removed), cut to 100 characters. */
  text: string;
}

export interface FormatAlternative {
  format: string;
  /** Its own first evidence if it had any (then it lost on position), else null. */
  evidence: FormatEvidence | null;
  reason: string;
}

export interface FormatExplanation {
  /** The format chosen; null: nothing fits. */
  format: string | null;
  evidence: FormatEvidence | null;
  /** How it was decided: by detection, or forced by the caller (--format). */
  forced: boolean;
  alternatives: FormatAlternative[];
  /** How much of the head was looked at. */
  linesScanned: number;
  bytesScanned: number;
}

/** Detection stops after this many lines that are neither blank nor comments. */
export const DETECT_MAX_LINES = 50;

const QUOTE = /^(?:>[ \t]*)+/;

/**
 * A pasted line as the ftrace parser sees it: without a trailing '\r' and without a mail reply's
 * leading quote marks (`> `, `>> `, `> > `) and the blanks after them.
 */
export function unquote(raw: string): string {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  return line.charCodeAt(0) === 62 ? line.replace(QUOTE, '') : line;
}

function cut(s: string): string {
  return s.length > 100 ? `${s.slice(0, 97)}…` : s;
}

/** Explains the choice among `table` for a file's head (≥ a few KB, or the whole file). */
export function explainFormat(head: string, table: readonly FormatSniffer[]): FormatExplanation {
  const found: Array<FormatEvidence | null> = table.map(() => null);
  let winner = -1;
  let seen = 0;
  let lineNo = 0;
  let byteOffset = 0;
  const enc = new TextEncoder();
  const lines = head.split('\n');
  const headBytes = enc.encode(head).length;
  let bytesScanned = 0;
  for (let k = 0; k < lines.length; k++) {
    const raw = lines[k]!;
    if (raw === '' && k === lines.length - 1) break; // after the last '\n': no line
    lineNo++;
    const at = byteOffset;
    byteOffset += enc.encode(raw).length + 1;
    bytesScanned = Math.min(byteOffset, headBytes);
    const line = unquote(raw);
    if (line.trim() === '') continue;
    for (let i = 0; i < table.length; i++) {
      if (found[i] !== null) continue;
      const what = table[i]!.sniff(line, lineNo);
      if (what !== null) {
        found[i] = { line: lineNo, byteOffset: at, what, text: cut(line) };
        if (winner < 0) winner = i;
      }
    }
    // The winner is known; a few more lines only show what the others would have found.
    if (winner >= 0 && lineNo >= found[winner]!.line + 20) break;
    if (!line.startsWith('#') && ++seen > DETECT_MAX_LINES) break;
  }
  const chosen = winner >= 0 ? table[winner]! : null;
  const win = winner >= 0 ? found[winner]! : null;
  const alternatives: FormatAlternative[] = [];
  table.forEach((e, i) => {
    if (i === winner) return;
    const ev = found[i]!;
    let reason: string;
    if (ev === null) reason = `no line matched: looks for ${e.looksFor}`;
    else if (win !== null && ev.line === win.line) reason = `line ${ev.line} also matched (${ev.what}); ${chosen!.name} comes first in the format table`;
    else reason = `its first evidence (line ${ev.line}: ${ev.what}) comes after ${chosen!.name}'s (line ${win!.line})`;
    alternatives.push({ format: e.name, evidence: ev, reason });
  });
  return { format: chosen?.name ?? null, evidence: win, forced: false, alternatives, linesScanned: lineNo, bytesScanned };
}

/** The explanation as text lines (the CLI's --explain; the page shows the first). */
export function explanationLines(file: string, x: FormatExplanation): string[] {
  const out: string[] = [];
  if (x.format === null) out.push(`${file}: no format recognised (looked at ${x.linesScanned} lines, ${x.bytesScanned} bytes)`);
  else if (x.forced) out.push(`${file}: ${x.format} (forced by --format)`);
  else out.push(`${file}: ${x.format}`);
  if (x.evidence !== null) {
    out.push(`  evidence: line ${x.evidence.line} (byte ${x.evidence.byteOffset}): ${x.evidence.what}`);
    out.push(`    ${JSON.stringify(x.evidence.text)}`);
  }
  for (const a of x.alternatives) out.push(`  not ${a.format}: ${a.reason}`);
  return out;
}

/** One line for a file panel: the format and the evidence that decided it. */
export function explanationSummary(x: FormatExplanation): string {
  if (x.format === null) return 'no format recognised';
  if (x.forced) return `${x.format} (chosen by the caller)`;
  return x.evidence ? `${x.format}: line ${x.evidence.line}, ${x.evidence.what}` : x.format;
}
