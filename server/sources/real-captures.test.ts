// The real captures of fixtures/real/, imported as a user would (server/sources/files.ts, the same
// pipeline the page uses), against the figures their `*.expected.json` give — derived from the raw
// lines by scripts/capture/expected.py, never from fusescope.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadFiles } from './files.ts';
import { summarize } from '../../src/trace/summary.ts';

const fixture = (path: string): string => fileURLToPath(new URL(`../../fixtures/real/${path}`, import.meta.url));

interface ExpectedWait { addr: string; beginNs: number; endNs: number | null; ret: number | null; writerName?: { name: string } }
interface Expected {
  aliasGroups: Array<{ stIno: number; nodeids: number[]; paths: string[] }>;
  lockContention: Record<string, { count: number; waits: ExpectedWait[] }>;
}

describe('fuse2fs hardlink capture with libfuse reply probes (real st_ino)', () => {
  it('the alias group has the st_ino the replies carried, each name its own i_rwsem, wait totals as traced', async () => {
    const expected = JSON.parse(readFileSync(fixture('fuse2fs-hardlink-ino/trace.expected.json'), 'utf8')) as Expected;
    const r = await loadFiles([fixture('fuse2fs-hardlink-ino/trace.txt'), fixture('fuse2fs-hardlink-ino/fuse2fs-d.log')]);
    expect(r.diagCount).toBe(0);
    const sum = summarize(r.store);
    expect(sum.aliasGroups.map((g) => ({ ino: g.ino, nodeids: g.nodeids, paths: g.paths }))).toEqual(
      expected.aliasGroups.map((g) => ({ ino: g.stIno, nodeids: g.nodeids, paths: g.paths })));
    // One lock per name; its waits and their total, from the contention_begin/end pairs.
    for (const [addr, c] of Object.entries(expected.lockContention)) {
      const lock = sum.locks.find((l) => l.lockAddrs.includes(`0x${addr}`));
      expect(lock, addr).toBeDefined();
      const ended = c.waits.filter((w) => w.endNs !== null);
      expect(lock!.contended).toBe(ended.length);
      expect(lock!.unfinished).toBe(c.waits.length - ended.length);
      expect(lock!.waitNsTotal).toBe(ended.reduce((n, w) => n + (w.endNs! - w.beginNs), 0));
      expect(lock!.ino).toBe(expected.aliasGroups[0]!.stIno);
      // Its writers all came through one name: the nodeid of that name.
      const names = new Set(c.waits.map((w) => w.writerName?.name));
      expect(names.size).toBe(1);
      const nodeid = expected.aliasGroups[0]!.nodeids[expected.aliasGroups[0]!.paths.indexOf([...names][0]!)];
      expect(lock!.nodeid).toBe(nodeid);
    }
  });
});

describe('ext4 and XFS contention captures: each lock is the i_rwsem of the inode the expected file names', () => {
  for (const name of ['ext4-mixed.report.txt', 'ext4-mixed.trace.txt', 'xfs-contend.trace.txt', 'xfs-contend.report.txt']) {
    it(name, async () => {
      const expected = JSON.parse(readFileSync(fixture(`kernel-fs/${name.replace(/\.txt$/, '.expected.json')}`), 'utf8')) as {
        lockContention: Record<string, { count: number; noEnd: unknown[]; waitNsTotal: number; waitNsMax: number; inoFromWaiterIomap: string[] }>;
      };
      const r = await loadFiles([fixture(`kernel-fs/${name}`)]);
      expect(r.diagCount).toBe(0);
      const sum = summarize(r.store);
      for (const [addr, c] of Object.entries(expected.lockContention)) {
        const lock = sum.locks.find((l) => l.lockAddrs.includes(`0x${addr}`));
        expect(lock, addr).toMatchObject({
          lock: 'i_rwsem', nodeid: null, ino: Number(c.inoFromWaiterIomap[0]),
          contended: c.count - c.noEnd.length, unfinished: c.noEnd.length, waitNsTotal: c.waitNsTotal, waitNsMax: c.waitNsMax,
        });
      }
    });
  }
});
