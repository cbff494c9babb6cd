// Recorder safety (issue #20 item 1, docs/reliability.md): a hostile or failing sessions folder
// pauses recording with a reason and never ends the live session. Real files everywhere; the full
// disk is a real 512 KiB tmpfs (root) — skipped, and said so, where mounting is not allowed.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, statSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionRecorder, OWNER_SUFFIX } from './session-recorder.ts';
import { Recorder, type RecorderOptions } from './recorder.ts';
import { openRecordingFile } from './file-source.ts';
import { LiveSession, type ClientSocket } from '../hub/live-session.ts';
import type { LiveSink, LiveSource } from '../sources/live-source.ts';
import { TraceStore } from '../../src/trace/store.ts';
import { parseServerMessage, type RecordingStatus } from '../../src/trace/wire.ts';
import { typed } from '../../src/trace/testing/events.ts';

const root = mkdtempSync(join(tmpdir(), 'fusescope-recsafe-'));
/** No timers (the tests step time), small chunks, no compression (so a full disk comes fast). */
const SMALL: RecorderOptions = { maxRowsPerChunk: 256, indexEveryChunks: 4, autoFlush: false, compressionLevel: 0 };

afterAll(() => {
  // Never under a tmpfs still mounted (an umount that failed): leave it for a look.
  if (spawnSync('mountpoint', ['-q', join(root, 'tmpfs')]).status !== 0) rmSync(root, { recursive: true, force: true });
});

/** `n` fuse_send events at 1000 ns steps from `fromNs`, each with its own unique. */
function batch(n: number, fromNs = 1000): TraceStore {
  const s = new TraceStore(0n);
  for (let i = 0; i < n; i++) {
    const t = fromNs + i * 1000;
    // Fields follow from tsNs alone, so consecutive batches are one sequence.
    const k = t / 1000;
    s.append(typed({ kind: 'fuse_send', tsNs: t, task: `app/${k % 3}`, unique: 2 * k, opcode: 15, nodeId: 2, lenBytes: 72 + (k % 7) }));
  }
  return s;
}

/** A clock the test moves; starts at a fixed instant so file names are known. */
function clock(): { now: () => number; advance(ms: number): void } {
  let ms = Date.UTC(2026, 0, 2, 3, 4, 5);
  return { now: () => ms, advance: (d) => { ms += d; } };
}

function fresh(name: string): string {
  const d = join(root, name);
  mkdirSync(d);
  return d;
}

/** A closed recording of `rows` rows at `path`, its mtime `ageS` seconds in the past. */
function closedRecording(path: string, rows: number, ageS: number): void {
  const r = new Recorder(path, SMALL);
  r.appendRows(batch(rows));
  r.close();
  const t = Date.now() / 1000 - ageS;
  utimesSync(path, t, t);
}

describe('the size cap survives a hostile sessions folder', () => {
  it('a dangling *.fscope symlink is skipped (neither counted, followed nor deleted); the closed recording is deleted', () => {
    const dir = fresh('symlink');
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling.fscope'));
    closedRecording(join(dir, 'old.fscope'), 300, 100);
    const log: string[] = [];
    const rec = new SessionRecorder({ dir, maxBytes: 1, recorder: SMALL, log: (l) => log.push(l) });
    rec.onSourceChange('s', 'sim:s');
    expect(() => rec.onBatch(batch(10), 0, 10)).not.toThrow();
    expect(rec.recordingStatus.state).toBe('recording');
    expect(lstatSync(join(dir, 'dangling.fscope')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(dir, 'old.fscope'))).toBe(false);
    expect(rec.deleted).toEqual([join(dir, 'old.fscope')]);
    rec.close();
  });

  it('a directory named x.fscope is skipped (no EISDIR), and what is in it stays', () => {
    const dir = fresh('isdir');
    mkdirSync(join(dir, 'x.fscope'));
    writeFileSync(join(dir, 'x.fscope', 'keep'), 'mine');
    const rec = new SessionRecorder({ dir, maxBytes: 1, recorder: SMALL });
    rec.onSourceChange('s', 'sim:s');
    expect(() => rec.onBatch(batch(10), 0, 10)).not.toThrow();
    expect(rec.recordingStatus.state).toBe('recording');
    expect(readdirSync(join(dir, 'x.fscope'))).toEqual(['keep']);
    expect(rec.deleted).toEqual([]);
    rec.close();
  });

  it('the folder removed while serving: recording pauses with the reason, then resumes in a new folder after the retry time', async () => {
    const dir = join(fresh('removed'), 'sessions');
    const c = clock();
    const statuses: RecordingStatus[] = [];
    const rec = new SessionRecorder({ dir, maxBytes: 1 << 30, recorder: SMALL, now: c.now, retryMs: 10_000, onStatus: (s) => statuses.push(s) });
    rec.onSourceChange('s', 'sim:s');
    rec.onBatch(batch(10), 0, 10);
    expect(statuses).toEqual([{ state: 'recording', file: '2026-01-02T03-04-05-000Z-s.fscope', reason: null }]);
    rmSync(dir, { recursive: true });
    c.advance(6000); // past the 5 s check
    expect(() => rec.onBatch(batch(10, 20_000), 0, 10)).not.toThrow();
    expect(statuses.at(-1)!.state).toBe('paused');
    expect(statuses.at(-1)!.reason).toMatch(/2026-01-02T03-04-05-000Z-s\.fscope was removed while being written/);
    // Still paused before the retry time: rows are counted as not recorded.
    c.advance(5000);
    rec.onBatch(batch(7, 40_000), 0, 7);
    expect(rec.droppedRows).toBe(7);
    expect(existsSync(dir)).toBe(false);
    c.advance(5000); // 10 s after the pause
    rec.onBatch(batch(5, 60_000), 0, 5);
    expect(statuses.at(-1)).toEqual({ state: 'recording', file: '2026-01-02T03-04-21-000Z-s.fscope', reason: null });
    rec.close();
    const { reader, close } = await openRecordingFile(join(dir, '2026-01-02T03-04-21-000Z-s.fscope'));
    expect((await reader.readAll()).length).toBe(5);
    await close();
  });
});

describe('two servers sharing a sessions folder', () => {
  it("neither deletes the other's active recording; a closed one, or one whose owner died, is deleted", () => {
    const dir = fresh('shared');
    const c = clock();
    const a = new SessionRecorder({ dir, maxBytes: 1 << 30, recorder: SMALL, now: c.now });
    a.onSourceChange('s', 'sim:s');
    a.onBatch(batch(600), 0, 600);
    const aPath = a.currentPath!;
    // B starts at the same instant on the same scenario: a name of its own, not A's.
    const b = new SessionRecorder({ dir, maxBytes: 1, recorder: SMALL, now: c.now });
    b.onSourceChange('s', 'sim:s');
    b.onBatch(batch(10), 0, 10);
    expect(b.currentPath).toBe(join(dir, '2026-01-02T03-04-05-000Z-s-2.fscope'));
    expect(b.deleted).toEqual([]); // over its 1-byte cap, but A's file is live
    expect(existsSync(aPath)).toBe(true);
    // A recording whose owner died (a pid that ran and exited) is closed for good: the cap deletes it.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const orphan = join(dir, 'crashed.fscope');
    closedRecording(orphan, 300, 100);
    writeFileSync(orphan + OWNER_SUFFIX, JSON.stringify({ pid: dead, procStart: 1, startedUnixMs: 0 }));
    c.advance(6000);
    b.onBatch(batch(10, 20_000), 0, 10);
    expect(b.deleted).toEqual([orphan]);
    expect(existsSync(orphan + OWNER_SUFFIX)).toBe(false);
    // A keeps writing to its own, still listed, file; once A closes it, B's cap may delete it.
    a.onBatch(batch(300, 700_000), 0, 300);
    expect(a.recordingStatus.state).toBe('recording');
    a.close();
    expect(existsSync(aPath + OWNER_SUFFIX)).toBe(false);
    c.advance(6000);
    b.onBatch(batch(10, 40_000), 0, 10);
    expect(b.deleted).toEqual([orphan, aPath]);
    b.close();
  });
});

describe('a real `serve` sharing the folder', () => {
  it("this process's cap never deletes the file a running serve writes; once that serve exits it may", async () => {
    const dir = fresh('real-serve');
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'serve', '--port', '0', '--record-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    const theirs = await new Promise<string>((ok, fail) => {
      const onData = (c: Buffer): void => {
        out += c.toString();
        const m = /recording to (\S+\.fscope)/.exec(out);
        if (m) ok(m[1]!);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => fail(new Error(`serve exited with ${code}: ${out}`)));
    });
    expect(existsSync(theirs + OWNER_SUFFIX)).toBe(true);
    const c = clock();
    const ours = new SessionRecorder({ dir, maxBytes: 1, recorder: SMALL, now: c.now });
    ours.onSourceChange('s', 'sim:s');
    ours.onBatch(batch(10), 0, 10);
    expect(ours.deleted).toEqual([]);
    expect(existsSync(theirs)).toBe(true);
    child.kill('SIGTERM');
    await exited;
    expect(existsSync(theirs + OWNER_SUFFIX)).toBe(false); // closed cleanly
    c.advance(6000);
    ours.onBatch(batch(10, 20_000), 0, 10);
    expect(ours.deleted).toEqual([theirs]);
    ours.close();
  });
});

describe('a full disk (512 KiB tmpfs)', () => {
  const mnt = join(root, 'tmpfs');
  let mounted = false;
  beforeAll(() => {
    mkdirSync(mnt);
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt]).status === 0;
  });
  afterAll(() => {
    if (mounted) spawnSync('umount', [mnt]);
  });

  it('recording pauses with ENOSPC, the live session streams on, and the file reads back with every whole chunk', async (ctx) => {
    if (!mounted) ctx.skip(); // needs root to mount a tmpfs
    const dir = join(mnt, 'sessions');
    const logs: string[] = [];
    const src = new Stepper();
    const session = new LiveSession({ scenarios: [], scenario: 's', makeSource: () => src });
    const rec = new SessionRecorder({ dir, maxBytes: 1 << 30, recorder: SMALL, log: (l) => logs.push(l), onStatus: (s) => session.setRecordingStatus(s) });
    session.addListener(rec);
    session.start();
    const viewer = new Viewer();
    session.attach(viewer);

    let steps = 0;
    while (rec.recordingStatus.state === 'recording' && steps < 400) src.step(500, steps++);
    expect(rec.recordingStatus.state).toBe('paused');
    expect(rec.recordingStatus.reason).toMatch(/^ENOSPC: no space left on device while writing .*\.fscope \(the chunks written before it are kept: \d+ events\)$/);
    expect(logs.some((l) => l.startsWith('recording paused: ENOSPC'))).toBe(true);
    // Every viewer is told, and the stream goes on after the pause.
    expect(viewer.texts.some((m) => m.type === 'recording' && m.recording.state === 'paused' && m.recording.reason!.startsWith('ENOSPC'))).toBe(true);
    const framesAtPause = viewer.frames;
    src.step(500, steps++);
    expect(viewer.frames).toBe(framesAtPause + 1);
    // A viewer joining now is told in its hello.
    const late = new Viewer();
    session.attach(late);
    expect(late.texts[0]!.type === 'hello' && late.texts[0]!.recording?.state).toBe('paused');
    session.stop();
    rec.close();

    const file = readdirSync(dir).filter((f) => f.endsWith('.fscope'));
    expect(file).toHaveLength(1);
    expect(readdirSync(dir)).toEqual(file); // the owner file went with the failure
    // Every chunk kept is whole: the rows read back are the first rows streamed, a whole number of 256-row chunks.
    const { reader, close } = await openRecordingFile(join(dir, file[0]!));
    const store = await reader.readAll();
    await close();
    const kept = Number(/kept: (\d+) events/.exec(rec.recordingStatus.reason ?? '')![1]);
    expect(store.length).toBe(kept);
    expect(kept).toBeGreaterThan(0);
    expect(kept % 256).toBe(0);
    const want = batch(kept, 1000);
    for (const i of [0, 1, kept - 1]) expect(store.get(i)).toEqual(want.get(i));
    // Cut back to a chunk boundary: the only thing wrong is the missing trailer, at the very end (no torn chunk).
    expect(reader.damage).toEqual({ offsetBytes: statSync(join(dir, file[0]!)).size, reason: expect.stringMatching(/^file ends without a trailer/) });
    const sum = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'summary', join(dir, file[0]!)], { encoding: 'utf8', timeout: 120_000 });
    expect([0, 1]).toContain(sum.status);
    expect(JSON.parse(sum.stdout).events.total).toBe(kept);
  });

  it('a full disk hit by the auto-flush timer is reported to onError, not thrown out of the timer', async (ctx) => {
    if (!mounted) ctx.skip();
    // The first test left the disk full; the header still fits in what a cut-back chunk freed, or not at all.
    const errors: Error[] = [];
    let r: Recorder | null = null;
    try {
      r = new Recorder(join(mnt, 'timer.fscope'), { ...SMALL, maxRowsPerChunk: 1 << 20, autoFlush: true, flushIntervalMs: 50, onError: (e) => errors.push(e) });
    } catch (e) {
      // No room even for the header: the constructor throws and leaves no empty file behind.
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
      expect(existsSync(join(mnt, 'timer.fscope'))).toBe(false);
      return;
    }
    r.appendRows(batch(60_000)); // below a chunk (~2 MB unpacked, more than the disk): only the timer writes it
    await vi.waitFor(() => expect(errors).toHaveLength(1), { timeout: 20_000, interval: 50 });
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['ENOSPC']);
    expect(r.isOpen).toBe(false);
  });
});

/** A source the test steps: each step is one batch of `n` events. */
class Stepper implements LiveSource {
  readonly info = { label: 'stepper', paceNsPerSec: 1e6 };
  private sink: LiveSink | null = null;
  start(sink: LiveSink, signal: AbortSignal): Promise<void> {
    this.sink = sink;
    return new Promise((ok) => signal.addEventListener('abort', () => ok()));
  }
  step(n: number, k: number): void {
    const b = batch(n, 1000 + k * n * 1000);
    for (let i = 0; i < n; i++) this.sink!.event(b.get(i));
    this.sink!.flush();
  }
}

class Viewer implements ClientSocket {
  bufferedAmount = 0;
  frames = 0;
  readonly texts: ReturnType<typeof parse>[] = [];
  send(data: Uint8Array | string): void {
    if (typeof data === 'string') this.texts.push(parse(data));
    else this.frames++;
  }
}
function parse(raw: string) {
  const p = parseServerMessage(raw);
  if (!p.ok) throw new Error(p.message);
  return p.value;
}
