// `fusescope import` writes NDJSON from the store's rows (writeNdjson); what it writes must load
// back as the same trace: same origin, clock, and every row equal, field by field.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadFiles, writeNdjson } from './files.ts';

const fixture = (path: string): string => fileURLToPath(new URL(`../../fixtures/real/${path}`, import.meta.url));

describe('fusescope import output (writeNdjson)', () => {
  it('a real capture (ftrace joined with its -d log) written as NDJSON loads back to the same store', async () => {
    const files = [fixture('fuse2fs-hardlink/trace.txt'), fixture('fuse2fs-hardlink/fuse2fs-d.log')];
    const first = await loadFiles(files);
    expect(first.store.length).toBeGreaterThan(100);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await writeNdjson(first, files, out);
    out.end();
    const text = Buffer.concat(chunks).toString('utf8');
    const header = JSON.parse(text.slice(0, text.indexOf('\n'))) as Record<string, unknown>;
    expect(header).toMatchObject({ format: 'fusescope-ndjson', clock: 'ftrace-ns', originNs: first.store.originNs.toString() });
    expect(header.source).toBe(`import:ftrace:${files[0]},fuse-log:${files[1]}`);

    const dir = mkdtempSync(join(tmpdir(), 'fusescope-import-'));
    try {
      const path = join(dir, 'out.ndjson');
      writeFileSync(path, text);
      const back = await loadFiles([path]);
      expect(back.diagCount).toBe(0);
      expect(back.result.clock?.id).toBe('ftrace-ns');
      expect(back.store.originNs).toBe(first.store.originNs);
      expect(back.store.length).toBe(first.store.length);
      for (let row = 0; row < first.store.length; row++) expect(back.store.get(row)).toEqual(first.store.get(row));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
