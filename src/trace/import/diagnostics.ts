// Diagnostics of every importer: what is wrong where (`file:line[:col]: message`), counted per
// code with only the first few kept in full, so a file of garbage cannot exhaust memory.

export interface ParseDiag {
  /** File (or source) name. */
  source: string;
  /** 1-based line number (0: the whole file). */
  line: number;
  /** 1-based column where the problem starts (line-oriented text importers); absent = unknown. */
  col?: number;
  code: string;
  message: string;
}

/** `file:line:col: message` (col only when known), the form every diagnostic is printed in. */
export function formatDiag(d: ParseDiag): string {
  return `${d.source}:${d.line}${d.col ? `:${d.col}` : ''}: ${d.message}`;
}

/** Counts per code plus the first few in full. */
export class DiagSink {
  readonly first: ParseDiag[] = [];
  readonly byCode = new Map<string, number>();
  count = 0;
  constructor(private readonly keepFirst = 100) {}
  add(d: ParseDiag): void {
    this.count++;
    this.byCode.set(d.code, (this.byCode.get(d.code) ?? 0) + 1);
    if (this.first.length < this.keepFirst) this.first.push(d);
  }
}
