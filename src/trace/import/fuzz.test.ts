// Bad input: whatever the bytes, importers never throw, every bad line is counted, good lines
// around bad ones still import. Deterministic (seeded) so a failure reproduces.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { FtraceParser, MAX_FTRACE_LINE_BYTES } from './ftrace.ts';
import { FuseLogParser } from './fuse-log.ts';
import { detectFormat } from './index.ts';
import type { TraceEvent } from '../schema.ts';

const fixture = (p: string): string => readFileSync(new URL(`../../../fixtures/${p}`, import.meta.url), 'utf8');
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
function runFtrace(text: string, chunk: number): { events: TraceEvent[]; p: FtraceParser } {
  const events: TraceEvent[] = [];
  const p = new FtraceParser('f', (e) => events.push(e));
  for (let i = 0; i < text.length; i += chunk) p.push(text.slice(i, i + chunk));
  p.end();
  return { events, p };
}
const REAL = fixture('real/fuse2fs-hardlink/trace.txt') + fixture('ftrace/series-v7.txt');

describe('importers survive bad input', () => {
  it('random bytes and binary garbage: no exception, diagnostics counted, detection says unknown', () => {
    const r = rng(1);
    for (let round = 0; round < 200; round++) {
      const n = Math.floor(r() * 4000);
      let s = '';
      for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(r() * (round % 2 ? 256 : 65536)));
      const { p } = runFtrace(s, 1 + Math.floor(r() * 300));
      expect(p.diags.count).toBeGreaterThan(0);
      const log = new FuseLogParser('l');
      log.push(s);
      log.end();
      expect(log.diags.count).toBeGreaterThanOrEqual(0);
      void detectFormat(s);
    }
  });

  it('each inserted garbage line is one diagnostic and every good line still imports', () => {
    const clean = runFtrace(REAL, 1 << 16);
    expect(clean.p.diags.count).toBe(0);
    const lines = REAL.split('\n');
    const r = rng(2);
    let inserted = 0;
    const out: string[] = [];
    for (const line of lines) {
      out.push(line);
      // Not after a stack header: a garbage line there would end the stack block early.
      if (r() < 0.05 && !line.includes('<stack trace>') && !line.trimStart().startsWith('=>')) {
        out.push(`%garbage ${Math.floor(r() * 1e9)} \u0000\u0001\u00ff`);
        inserted++;
      }
    }
    const dirty = runFtrace(out.join('\n'), 97);
    expect(inserted).toBeGreaterThan(10);
    expect(dirty.p.diags.count).toBe(inserted);
    expect(dirty.p.diags.byCode.get('unparsable')).toBe(inserted);
    expect(dirty.events.length).toBe(clean.events.length);
  });

  it('truncated and mutated real lines: never throw; lines that break are counted; the rest import', () => {
    const lines = REAL.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const r = rng(3);
    for (let round = 0; round < 20; round++) {
      const mutated = lines.map((l) => {
        const x = r();
        if (x < 0.1) return l.slice(0, Math.floor(r() * l.length)); // truncated
        if (x < 0.2) {
          const at = Math.floor(r() * l.length);
          return l.slice(0, at) + String.fromCharCode(Math.floor(r() * 128)) + l.slice(at + 1);
        }
        return l;
      });
      const { events, p } = runFtrace(mutated.join('\n'), 1 + Math.floor(r() * 500));
      // Every event line either produced an event or a diagnostic.
      expect(events.length + p.diags.count).toBeGreaterThanOrEqual(p.stats.events);
      expect(events.length).toBeGreaterThan(lines.length * 0.5);
    }
  });

  it('huge lines are reported once each and skipped without eating the next line', () => {
    const good = '  a-1 [000] ..... 1.000001: x: y';
    const huge = 'z'.repeat(MAX_FTRACE_LINE_BYTES * 3);
    const text = [good, huge, good, huge + huge, good].join('\n');
    for (const chunk of [1000, 1 << 16, 1 << 20, text.length]) {
      const { events, p } = runFtrace(text, chunk);
      expect(events).toHaveLength(3);
      expect(p.diags.byCode.get('line_too_long')).toBe(2);
    }
  });

  it('pathological headers (long runs of spaces and dashes) finish (no catastrophic backtracking)', () => {
    expect(runFtrace(' '.repeat(60_000) + '-1 '.repeat(1000) + '\n', 1 << 20).p.diags.count).toBe(1);
    expect(runFtrace('a-1 '.repeat(16_000) + '\n', 1 << 20).p.diags.count).toBe(1);
  });
});
