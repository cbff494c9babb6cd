// Test helpers for importers (not used at runtime): run a parser over text in chunks of a given size.
import type { TraceEvent } from '../schema.ts';
import { formatDiag } from './diagnostics.ts';
import { openImport, type ImportFormat } from './index.ts';
import { finishImport, type ImportResult } from './pipeline.ts';

export function importText(
  files: ReadonlyArray<{ name: string; text: string; format: ImportFormat }>,
  chunkSize = Infinity,
): ImportResult & { parseDiags: string[]; raw: TraceEvent[][] } {
  const imports = files.map(({ name, text, format }) => {
    const imp = openImport(name, format);
    if (chunkSize === Infinity) imp.push(text);
    else for (let i = 0; i < text.length; i += chunkSize) imp.push(text.slice(i, i + chunkSize));
    imp.end();
    return imp;
  });
  const raw = imports.map((i) => [...i.events]);
  return { ...finishImport(imports), parseDiags: imports.flatMap((i) => i.diags.first.map(formatDiag)), raw };
}

/** One line per event, bigints in hex: compact, diffable snapshots. */
export function normalize(events: readonly TraceEvent[]): string[] {
  return events.map((ev) => {
    const { kind, tsNs, task, ...rest } = ev as unknown as Record<string, unknown>;
    const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'bigint' ? `0x${v.toString(16)}` : JSON.stringify(v)}`);
    return `${tsNs} ${task} ${kind} ${fields.join(' ')}`;
  });
}
