// The replay of an opened file (docs/replay.md): the playhead, its speed, play / pause / seek, and
// looping over the area selection. The pure arithmetic is playhead.ts; this holds the state and
// keeps the view on the playhead (ViewState.followWith). Active only while a file is open.

import type { TraceStore } from '../trace/store.ts';
import { REPLAY_PACE_NS_PER_SEC, advance, clampNs, clampSpeed, effectiveLoop, playFrom, type LoopRange, type PlayheadState } from './playhead.ts';
import { FOLLOW_WINDOW_WALL_S, clampWidth, type Changed, type ViewState } from './view-state.ts';

export class Replay {
  /** A file is open: there is something to replay. */
  active = false;
  playhead: PlayheadState = { startNs: 0, endNs: 0, playheadNs: 0, playing: false, speed: 1 };
  /** Play the area selection over and over. */
  loop = false;
  /** The playhead as the header shows it, refreshed with the counters (not every frame). */
  readoutNs = 0;
  private lastTickMs = Number.NaN;

  constructor(private readonly view: ViewState, private readonly nowMs: () => number, private readonly changed: Changed) {}

  /** The playhead for the views: events after it are not revealed yet; NaN when no file is open. */
  get playheadNs(): number {
    return this.active ? this.playhead.playheadNs : Number.NaN;
  }

  /** A file starts loading: an empty replay, paused; no notify. */
  begin(): void {
    this.active = true;
    this.playhead = { ...this.playhead, startNs: 0, endNs: 0, playheadNs: 0, playing: false };
  }

  /** Back to the live stream; no notify. */
  end(): void {
    this.active = false;
    this.playhead = { ...this.playhead, playing: false };
  }

  /** While loading: the replay spans what has arrived, the playhead at its end, all of it in view; no notify. */
  extend(trace: TraceStore): void {
    const { startNs, endNs } = trace;
    const atEnd = this.playhead.playheadNs >= this.playhead.endNs;
    this.playhead = { ...this.playhead, startNs, endNs, playheadNs: atEnd ? endNs : clampNs({ startNs, endNs }, this.playhead.playheadNs) };
    if (this.view.followLive && atEnd && !this.playhead.playing) this.view.followWith(endNs - startNs);
  }

  private loopRange(): LoopRange | null {
    const v = this.view;
    return this.loop && !Number.isNaN(v.areaFromNs) ? { fromNs: v.areaFromNs, toNs: v.areaToNs } : null;
  }

  /** Loop on only when there is an area selection to loop over. */
  get loopActive(): boolean {
    return effectiveLoop(this.playhead, this.loopRange()) !== null;
  }

  play(): void {
    if (!this.active || this.playhead.playing) return;
    const playheadNs = playFrom(this.playhead, this.loopRange());
    this.playhead = { ...this.playhead, playheadNs, playing: true };
    this.lastTickMs = Number.NaN;
    this.followPlayhead();
    this.changed(true);
  }

  /**
   * Shows the playhead at the view's right edge with the current zoom — or, when the whole file is
   * in view (just opened), with the live view's window for this speed, so the motion is readable.
   */
  private followPlayhead(): void {
    const fullNs = this.playhead.endNs - this.playhead.startNs;
    const widthNs = this.view.viewEndNs - this.view.viewStartNs;
    this.view.followWith(widthNs >= fullNs ? clampWidth(Math.min(fullNs, REPLAY_PACE_NS_PER_SEC * this.playhead.speed * FOLLOW_WINDOW_WALL_S)) : widthNs);
  }

  pause(): void {
    if (!this.playhead.playing) return;
    this.playhead = { ...this.playhead, playing: false };
    this.readoutNs = this.playhead.playheadNs;
    this.changed(true);
  }

  togglePlay(): void {
    if (this.playhead.playing) this.pause();
    else this.play();
  }

  setSpeed(speed: number): void {
    this.playhead = { ...this.playhead, speed: clampSpeed(speed) };
    this.changed(true);
  }

  setLoop(on: boolean): void {
    if (on === this.loop) return;
    this.loop = on;
    this.changed(true);
  }

  /** Moves the playhead (and the view with it); nothing is reloaded, so it is one frame's work. */
  seek(tsNs: number): void {
    if (!this.active) return;
    const playheadNs = clampNs(this.playhead, tsNs);
    this.playhead = { ...this.playhead, playheadNs };
    this.readoutNs = playheadNs;
    this.followPlayhead();
    this.changed(true);
  }

  /** Runs at the start of every frame: advances a playing replay by the wall time since the last. */
  tick(): void {
    if (!this.playhead.playing) return;
    const nowMs = this.nowMs();
    const wallMs = Number.isNaN(this.lastTickMs) ? 0 : nowMs - this.lastTickMs;
    this.lastTickMs = nowMs;
    this.playhead = advance(this.playhead, wallMs, this.loopRange());
    this.view.followNow();
    if (this.playhead.playing) this.changed(false);
    else this.changed(true); // reached the end: the play button changes
  }

  /** Refreshes the header's readout (at the counter rate); returns whether it moved. */
  refreshReadout(): boolean {
    if (!this.active || this.playhead.playheadNs === this.readoutNs) return false;
    this.readoutNs = this.playhead.playheadNs;
    return true;
  }
}
