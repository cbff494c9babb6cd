// fusescope's own Chrome Trace Event JSON export (src/trace/export/chrome-json.ts), read back: every
// exported entry carries its store row and the NDJSON-shaped event (`{row, event}` args), so the
// events are rebuilt exactly (importChromeJson). The file is one JSON document, not lines: its text
// is gathered and parsed at the end (memory: the file's text, then its events — this format is for
// a fusescope export opened again, not for large foreign traces). Entries of other producers carry
// no event: they are counted and said in one diagnostic.

import type { TraceEvent } from '../schema.ts';
import { importChromeJson } from '../export/chrome-json.ts';
import type { DiagSink } from './diagnostics.ts';

export class ChromeJsonParser {
  private readonly parts: string[] = [];
  private readonly decoder = new TextDecoder();
  /** The export's `otherData` (generator, source, originNs), once parsed. */
  otherData: Record<string, unknown> | null = null;

  constructor(private readonly sourceName: string, private readonly onEvent: (ev: TraceEvent) => void, private readonly diags: DiagSink) {}

  push(chunk: string | Uint8Array): void {
    this.parts.push(typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true }));
  }

  end(): void {
    this.parts.push(this.decoder.decode());
    const text = this.parts.join('');
    this.parts.length = 0;
    const m = /"otherData"\s*:\s*(\{[^{}]*\})/.exec(text.slice(0, 4096));
    if (m) {
      try {
        this.otherData = JSON.parse(m[1]!) as Record<string, unknown>;
      } catch {
        this.otherData = null;
      }
    }
    const { events, foreign, errors } = importChromeJson(text);
    for (const e of errors.slice(0, 50)) this.diags.add({ source: this.sourceName, line: e.line, ...(e.col > 0 ? { col: e.col } : {}), code: 'chrome_json', message: e.message });
    if (foreign > 0) {
      this.diags.add({ source: this.sourceName, line: 0, code: 'foreign_entries', message: `${foreign} entries carry no fusescope event (not written by fusescope export): skipped` });
    }
    for (const ev of events) this.onEvent(ev);
  }

  /** Absolute ns of tsNs 0, from the export's otherData.originNs (0 when absent). */
  originNs(): bigint {
    const raw = this.otherData?.originNs;
    return typeof raw === 'string' && /^-?\d+$/.test(raw) ? BigInt(raw) : 0n;
  }
}
