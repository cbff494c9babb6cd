import { describe, expect, it } from 'vitest';
import { TraceStore } from '../../trace/store.ts';
import { diffStats, formatDiff, ratioText, traceStats, type DiffRow } from '../../trace/compare.ts';
import { diffCells, splitMetric, toneOf } from './diff-table.ts';

const row = (metric: string, a: number, b: number): DiffRow => ({ metric, unit: '', a, b, ratio: a !== 0 && Number.isFinite(a) && Number.isFinite(b) ? b / a : Number.NaN });

describe('compare diff table', () => {
  it('tells per-opcode rows from run rows (lock wait p99 is a run row)', () => {
    expect(splitMetric('FUSE_IOMAP_BEGIN p50')).toEqual({ opcode: 'FUSE_IOMAP_BEGIN', label: 'p50' });
    expect(splitMetric('FUSE_LOOKUP count')).toEqual({ opcode: 'FUSE_LOOKUP', label: 'count' });
    expect(splitMetric('lock wait p99')).toEqual({ opcode: '', label: 'lock wait p99' });
    expect(splitMetric('throughput')).toEqual({ opcode: '', label: 'throughput' });
  });

  it('formats ratios as fusescope diff does: 1.23×, new, —', () => {
    expect(ratioText(row('x', 2, 3))).toBe('1.50×');
    expect(ratioText(row('x', 0, 3))).toBe('new');
    expect(ratioText(row('x', 5, Number.NaN))).toBe('—');
    expect(ratioText(row('x', 0, 0))).toBe('—');
  });

  it('tones B against A by which way is better; counts have no tone', () => {
    expect(toneOf(row('throughput', 60, 136), '', 'throughput')).toBe('better');
    expect(toneOf(row('upcalls per MiB', 211, 0), '', 'upcalls per MiB')).toBe('better');
    expect(toneOf(row('lock wait p99', 100, 300), '', 'lock wait p99')).toBe('worse');
    expect(toneOf(row('FUSE_READ p99', 10, 10.5), 'FUSE_READ', 'p99')).toBe('same');
    expect(toneOf(row('events', 1, 2), '', 'events')).toBe('none');
    expect(toneOf(row('cache hit rate', 90, Number.NaN), '', 'cache hit rate')).toBe('none');
  });

  it('keeps every DiffRow, in order, with the text table’s cells', () => {
    const a = new TraceStore();
    a.append({ kind: 'fuse_send', tsNs: 100, task: 'k/1', unique: 1, opcode: 4096, nodeId: 2 } as never);
    a.append({ kind: 'fuse_reply', tsNs: 900, task: 's/1', unique: 1, error: 0 } as never);
    const rows = diffStats(traceStats(a), traceStats(new TraceStore()));
    const { run, opcodes } = diffCells(rows);
    expect([...run, ...opcodes].map((c) => c.row)).toEqual(rows);
    expect(opcodes.length % 5).toBe(0);
    const text = formatDiff(rows);
    for (const c of run) expect(text).toContain(`${c.aText}`);
  });

  it('an unknown figure reads "unknown" in its cell, with no ratio (not "new")', () => {
    const row: DiffRow = { metric: 'throughput', unit: 'MiB/s', a: Number.NaN, b: 1000, ratio: Number.NaN, unknown: { a: 'no application read or write syscall is in the trace' } };
    const cell = diffCells([row]).run[0]!;
    expect([cell.aText, cell.bText, cell.ratioText, cell.tone]).toEqual(['unknown', '1,000', '—', 'none']);
    expect(ratioText({ ...row, unknown: undefined })).toBe('new'); // the same NaN without a reason: B is new
  });
});
