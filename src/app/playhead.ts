// Replay of an opened file in virtual time (docs/replay.md). The whole recording is in the store;
// the playhead is a time that limits what the views show: while following, the view ends at it,
// and the timeline greys out everything after it. Playing advances it by speed × pace × wall time;
// seeking only moves it (no data is reloaded), so a seek costs one frame.
//
//   startNs            loopFromNs      playheadNs   loopToNs             endNs
//   |------------------[===============|============]--------------------|
//                       └ loop: reaching loopToNs jumps back to loopFromNs
//
// 1× is the live view's pace (REPLAY_PACE_NS_PER_SEC of trace per wall second, the simulator's
// DEFAULT_PACE_NS_PER_SEC): FUSE upcalls last µs, so real time would be a blur; the same "1×"
// live and in replay means the same thing on screen.

/** Trace ns shown per wall second at 1× (= server/sources/sim.ts DEFAULT_PACE_NS_PER_SEC). */
export const REPLAY_PACE_NS_PER_SEC = 2_000_000;
const REPLAY_SPEED_MIN = 0.1;
const REPLAY_SPEED_MAX = 100;
export const REPLAY_SPEEDS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100] as const;
/** A frame gap longer than this (background tab, debugger) advances only this much: no jumps. */
export const MAX_FRAME_GAP_MS = 250;

export interface PlayheadState {
  readonly startNs: number;
  readonly endNs: number;
  readonly playheadNs: number;
  readonly playing: boolean;
  readonly speed: number;
}

export interface LoopRange {
  fromNs: number;
  toNs: number;
}

export function clampSpeed(speed: number): number {
  if (!Number.isFinite(speed)) return 1;
  return Math.min(REPLAY_SPEED_MAX, Math.max(REPLAY_SPEED_MIN, speed));
}

/** A loop range usable inside [startNs, endNs], or null (none, empty, or outside). */
export function effectiveLoop(s: Pick<PlayheadState, 'startNs' | 'endNs'>, loop: LoopRange | null): LoopRange | null {
  if (!loop || !(loop.toNs > loop.fromNs)) return null;
  const fromNs = Math.max(s.startNs, loop.fromNs);
  const toNs = Math.min(s.endNs, loop.toNs);
  return toNs > fromNs ? { fromNs, toNs } : null;
}

/** Where the playhead goes when play is pressed: the start again after the end, or into the loop. */
export function playFrom(s: PlayheadState, loop: LoopRange | null): number {
  const l = effectiveLoop(s, loop);
  if (l) return s.playheadNs >= l.fromNs && s.playheadNs < l.toNs ? s.playheadNs : l.fromNs;
  return s.playheadNs >= s.endNs ? s.startNs : clampNs(s, s.playheadNs);
}

/** The state after `wallMs` of playing: advanced, wrapped in the loop, or stopped at the end. */
export function advance(s: PlayheadState, wallMs: number, loop: LoopRange | null): PlayheadState {
  if (!s.playing) return s;
  const stepNs = (Math.min(Math.max(0, wallMs), MAX_FRAME_GAP_MS) / 1000) * REPLAY_PACE_NS_PER_SEC * s.speed;
  const nextNs = s.playheadNs + stepNs;
  const l = effectiveLoop(s, loop);
  if (l) {
    if (nextNs < l.toNs && s.playheadNs >= l.fromNs) return { ...s, playheadNs: nextNs };
    const from = s.playheadNs >= l.fromNs && s.playheadNs < l.toNs ? nextNs : l.fromNs;
    return { ...s, playheadNs: l.fromNs + ((from - l.fromNs) % (l.toNs - l.fromNs)) };
  }
  if (nextNs >= s.endNs) return { ...s, playheadNs: s.endNs, playing: false };
  return { ...s, playheadNs: nextNs };
}

export function clampNs(s: Pick<PlayheadState, 'startNs' | 'endNs'>, tsNs: number): number {
  return Math.min(s.endNs, Math.max(s.startNs, tsNs));
}
