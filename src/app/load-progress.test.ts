// The load's progress bar (ImportNotice): rows, MB/s and time left from the import status.
import { describe, expect, it } from 'vitest';
import { SourceStatus, loadProgress } from './source-status.ts';

describe('loadProgress', () => {
  it('a recording: rows of the index, MB/s since the open began, time left at this phase\'s pace', () => {
    // Opened at 1,000 ms; loading began at 3,000 ms; at 5,000 ms 2.5 M of 10 M rows and 20 MB are in.
    const p = loadProgress({ phase: 'loading', doneBytes: 20e6, totalBytes: 59e6, doneRows: 2_500_000, totalRows: 10_000_000, startedMs: 1000, phaseStartedMs: 3000 }, 5000);
    expect(p.fraction).toBe(0.25);
    expect([p.doneRows, p.totalRows]).toEqual([2_500_000, 10_000_000]);
    expect(p.mbPerSec).toBe(5); // 20 MB in 4 s
    expect(p.secondsLeft).toBe(6); // 2 s for a quarter: 3 quarters take 6 s
  });

  it('bytes when the rows are not known; nothing guessed before there is a pace', () => {
    const p = loadProgress({ phase: 'fetching', doneBytes: 3e6, totalBytes: 12e6, startedMs: 0, phaseStartedMs: 0 }, 1500);
    expect(p).toEqual({ fraction: 0.25, doneRows: null, totalRows: null, mbPerSec: 2, secondsLeft: 4.5 });
    const early = loadProgress({ phase: 'reading', doneBytes: 0, totalBytes: 12e6, startedMs: 0, phaseStartedMs: 0 }, 100);
    expect([early.mbPerSec, early.secondsLeft]).toEqual([null, null]);
  });

  it('SourceStatus keeps the open\'s start and notes when each phase began', () => {
    let now = 1000;
    const s = new SourceStatus(() => {}, () => now);
    s.beginFile({ label: 'r.fscope', kind: 'recording', recordingName: '' });
    now = 2000;
    s.setImportStatus({ phase: 'reading', doneBytes: 0, totalBytes: 100 });
    now = 3000;
    s.setImportStatus({ phase: 'loading', doneBytes: 10, totalBytes: 100, doneRows: 5, totalRows: 50 });
    now = 4000;
    s.setImportStatus({ phase: 'loading', doneBytes: 20, totalBytes: 100, doneRows: 10, totalRows: 50 });
    expect(s.importStatus).toMatchObject({ startedMs: 1000, phaseStartedMs: 3000 });
    expect(loadProgress(s.importStatus, 4000).secondsLeft).toBe(4); // 1 s for 10 rows: 40 left
  });
});
