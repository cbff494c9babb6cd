// Restoring tracefs from a snapshot, on a plain folder standing in for it (no kernel needed): the
// real-kernel cases are in tracefs-capture.test.ts.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferKb, restoreSnapshot, type TracefsSnapshot } from './tracefs.ts';

function fakeTracefs(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'fusescope-tracefs-'));
  mkdirSync(join(root, 'events'));
  for (const [path, content] of Object.entries(files)) writeFileSync(join(root, path), content);
  return root;
}
const snapshot = (root: string, files: Record<string, string>): TracefsSnapshot => ({
  version: 1, pid: 1, root, mounted: false, triggers: [], startedAt: '',
  files: Object.entries(files).map(([path, content]) => ({ path, content })),
});

describe('restoreSnapshot: buffer_size_kb', () => {
  it('reads a size, expanded or not', () => {
    expect(bufferKb('1408\n')).toBe(1408);
    expect(bufferKb('7 (expanded: 1408)\n')).toBe(1408);
    expect(bufferKb('garbage')).toBeNull();
  });

  // A tracefs mounted fresh reads `7 (expanded: 1408)` until tracing first allocates the buffer. A
  // capture that set 4096 cannot make it unexpanded again; it puts back the size tracing there would
  // have used (1408), and that counts as restored. Before, it wrote 7 and called the restore failed,
  // which also made every later capture refuse to start.
  it('a fresh tracefs\'s unexpanded buffer is put back at its expanded size, and that is as found', () => {
    const root = fakeTracefs({ buffer_size_kb: '4096\n', tracing_on: '1\n' });
    const problems = restoreSnapshot(snapshot(root, { buffer_size_kb: '7 (expanded: 1408)\n', tracing_on: '0\n' }));
    expect(problems).toEqual([]);
    expect(readFileSync(join(root, 'buffer_size_kb'), 'utf8')).toBe('1408\n');
    expect(readFileSync(join(root, 'tracing_on'), 'utf8')).toBe('0\n');
  });

  it('the expanded size as this kernel rounds it (1408 reads back as 1410) is as found; a page more is not', () => {
    const root = fakeTracefs({ buffer_size_kb: '1410\n' });
    expect(restoreSnapshot(snapshot(root, { buffer_size_kb: '7 (expanded: 1408)\n' }))).toEqual([]);
    expect(readFileSync(join(root, 'buffer_size_kb'), 'utf8')).toBe('1410\n'); // not written again
    const other = fakeTracefs({ buffer_size_kb: '1416\n' });
    restoreSnapshot(snapshot(other, { buffer_size_kb: '7 (expanded: 1408)\n' }));
    expect(readFileSync(join(other, 'buffer_size_kb'), 'utf8')).toBe('1408\n'); // 1416 is not it: written back
    // An expanded snapshot is compared exactly.
    const exact = fakeTracefs({ buffer_size_kb: '1410\n' });
    expect(restoreSnapshot(snapshot(exact, { buffer_size_kb: '1408\n' }))).toEqual([]);
    expect(readFileSync(join(exact, 'buffer_size_kb'), 'utf8')).toBe('1408\n');
  });

  it('a buffer that reads another size than found is still a problem', () => {
    // The snapshot says 2048 but the file cannot be written (a folder stands in for a refusing kernel).
    const root = fakeTracefs({});
    mkdirSync(join(root, 'buffer_size_kb'));
    const problems = restoreSnapshot(snapshot(root, { buffer_size_kb: '7 (expanded: 2048)\n' }));
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.startsWith('buffer_size_kb:'))).toBe(true);
  });
});
