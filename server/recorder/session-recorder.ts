// Records every live session into a sessions folder: one .fscope per source run (a scenario switch
// starts a new file), named `<UTC time>-<scenario>.fscope`. A size cap deletes the oldest
// recordings (never the one being written) when the folder's .fscope files exceed it.

import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { TraceStore } from '../../src/trace/store.ts';
import type { SessionListener } from '../hub/live-session.ts';
import { Recorder, type RecorderOptions } from './recorder.ts';

export const DEFAULT_SESSIONS_DIR = '.fusescope/sessions';
/** 1 GiB: about 10^8 sim events at the measured ~10 B/event (bench R2). */
export const DEFAULT_RECORD_MAX_BYTES = 1 << 30;
/** How often the cap is re-checked while a recording grows. */
const CAP_CHECK_INTERVAL_MS = 5000;

interface SessionRecorderOptions {
  dir: string;
  maxBytes: number;
  recorder?: RecorderOptions;
  log?: (line: string) => void;
  now?: () => number;
}

export class SessionRecorder implements SessionListener {
  private current: Recorder | null = null;
  private scenario = '';
  private label = '';
  private lastCapCheckMs = 0;
  readonly deleted: string[] = [];
  readonly written: string[] = [];

  constructor(private readonly o: SessionRecorderOptions) {
    mkdirSync(o.dir, { recursive: true });
  }

  get currentPath(): string | null { return this.current?.path ?? null; }

  onSourceChange(scenario: string, label: string): void {
    this.closeCurrent();
    this.scenario = scenario;
    this.label = label;
  }

  onBatch(batch: TraceStore, fromRow: number, toRow: number): void {
    if (!this.current) this.openNew(batch.originNs);
    this.current!.appendRows(batch, fromRow, toRow);
    const now = (this.o.now ?? Date.now)();
    if (now - this.lastCapCheckMs >= CAP_CHECK_INTERVAL_MS) {
      this.lastCapCheckMs = now;
      this.enforceCap();
    }
  }

  private openNew(originNs: bigint): void {
    const stamp = new Date((this.o.now ?? Date.now)()).toISOString().replace(/[:.]/g, '-');
    const safe = this.scenario.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'session';
    let path = join(this.o.dir, `${stamp}-${safe}.fscope`);
    for (let i = 2; existsQuiet(path); i++) path = join(this.o.dir, `${stamp}-${safe}-${i}.fscope`);
    this.current = new Recorder(path, {
      autoFlush: true, originNs, checks: {}, ...this.o.recorder, meta: { source: this.label, scenario: this.scenario, ...this.o.recorder?.meta },
    });
    this.written.push(path);
    this.o.log?.(`recording to ${path}`);
    this.enforceCap();
  }

  private closeCurrent(): void {
    this.current?.close();
    this.current = null;
  }

  /** Deletes the oldest .fscope files until the folder is within maxBytes (the active file is kept). */
  enforceCap(): void {
    const files = readdirSync(this.o.dir)
      .filter((f) => f.endsWith('.fscope'))
      .map((f) => {
        const path = join(this.o.dir, f);
        const st = statSync(path);
        return { path, bytes: st.size, mtimeMs: st.mtimeMs };
      })
      .sort((a, b) => a.mtimeMs - b.mtimeMs || a.path.localeCompare(b.path));
    let total = files.reduce((n, f) => n + f.bytes, 0);
    for (const f of files) {
      if (total <= this.o.maxBytes) break;
      if (f.path === this.current?.path) continue;
      unlinkSync(f.path);
      total -= f.bytes;
      this.deleted.push(f.path);
      this.o.log?.(`deleted ${f.path} (${f.bytes} bytes) to stay under --record-max-bytes ${this.o.maxBytes}`);
    }
  }

  close(): void {
    this.closeCurrent();
  }
}

function existsQuiet(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
