// Opening an A/B comparison: each side loads through its own FileSession (its own import worker)
// into a side store of a fresh ComparePair. The page's live stream is detached while comparing
// (as when a file is open) and "Back" returns to what the page showed before: the file it had
// open (its store was never touched), or the live stream, reconnected.

import type { AppStore } from './app-store.ts';
import type { WsClient } from './ws-client.ts';
import { FileSession, type WorkerLike } from './file-session.ts';
import { ComparePair, type CompareSide } from './compare-store.ts';

/** One side to compare: a server recording by name (a link can reopen it: `cmp=`) or a local file. */
export interface CompareSource {
  name: string;
  /** A local file's bytes; absent for a server recording. */
  blob?: Blob;
}

export class CompareSession {
  pair: ComparePair | null = null;
  sources: readonly [CompareSource, CompareSource] | null = null;
  private sessions: FileSession<CompareSide>[] = [];
  private resumeLive = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly main: AppStore,
    private readonly client: WsClient,
    private readonly makeWorker: () => WorkerLike,
    private readonly search: string = '',
    /** Tests give one (the sides then download in the page); absent, each side's worker downloads its recording. */
    private readonly fetchFn?: typeof fetch,
  ) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private notify(): void {
    this.main.scheduler.markDirty();
    for (const l of [...this.listeners]) l();
  }

  /** True while either side is loading (the idle hook waits for it). */
  get busy(): boolean {
    return this.sessions.some((s) => s.busy);
  }

  /** Both sides are server recordings, so a link can reopen the comparison. */
  get recordingNames(): [string, string] | null {
    const s = this.sources;
    return s && !s[0].blob && !s[1].blob ? [s[0].name, s[1].name] : null;
  }

  open(a: CompareSource, b: CompareSource): void {
    if (!this.pair) this.resumeLive = this.main.status.sourceKind === 'live';
    this.disposeSides();
    this.client.stop();
    const pair = new ComparePair(this.main.scheduler);
    this.pair = pair;
    this.sources = [a, b];
    for (const [side, src] of [[pair.a, a], [pair.b, b]] as const) {
      const fs = new FileSession(side, this.client, this.makeWorker, this.search, this.fetchFn);
      this.sessions.push(fs);
      if (src.blob) fs.openFiles([{ name: src.name, blob: src.blob }]);
      else void fs.openRecording(src.name);
    }
    this.notify();
  }

  /** The sides' chrome counters (call every COUNTER_PERIOD_MS, as for the page's store). */
  tickCounters(): void {
    this.pair?.a.tickCounters();
    this.pair?.b.tickCounters();
  }

  /** Leaves compare mode: back to the file the page had open, or to the live stream. */
  back(): void {
    if (!this.pair) return;
    this.disposeSides();
    this.pair = null;
    this.sources = null;
    if (this.resumeLive) this.client.start();
    this.notify();
  }

  private disposeSides(): void {
    for (const s of this.sessions) s.dispose();
    this.sessions = [];
  }
}
