// Splits chunked text into lines for the incremental parsers (NDJSON, libfuse logs): chunks may
// end anywhere, a trailing CR is dropped, and a line longer than the limit is reported once and
// skipped without eating the line after it — so a hostile file cannot make a parser buffer
// without bound.

export interface LineSink {
  /** One line without its terminator; `isLast` when the input ended without a final newline. */
  line(text: string, lineNo: number, isLast: boolean): void;
  /** Line `lineNo` exceeded the limit and is being skipped. */
  tooLong(lineNo: number): void;
}

export class LineSplitter {
  /** 1-based number of the last line handed out (or skipped). */
  lineNo = 0;
  private partial = '';
  private skipping = false;

  constructor(private readonly maxLineChars: number, private readonly sink: LineSink) {}

  push(chunk: string): void {
    let text = this.partial + chunk;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.emit(text.slice(start, nl), false);
      start = nl + 1;
    }
    text = start === 0 ? text : text.slice(start);
    if (text.length > this.maxLineChars) {
      if (!this.skipping) this.sink.tooLong(this.lineNo + 1);
      this.skipping = true;
      text = '';
    }
    this.partial = text;
  }

  end(): void {
    if (this.partial.length === 0) return;
    const last = this.partial;
    this.partial = '';
    this.emit(last, true);
  }

  private emit(raw: string, isLast: boolean): void {
    this.lineNo++;
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    this.sink.line(raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw, this.lineNo, isLast);
  }
}
