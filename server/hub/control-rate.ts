// A per-client token bucket for the control messages a page sends on the websocket (pause, ping,
// speed …), so one client flooding them cannot take the server's time from the others.
//
// A page sends one or two per user action; 50/s with a burst of 100 is far above that. Past it, messages are dropped (nothing is parsed or answered); the client is told
// at most once a second, with how many were dropped; a client that keeps on (over the rate for
// `cutOffAfterMs`, or `cutOffAfterDropped` drops in one such episode) is cut off. An episode ends
// after a second without a drop. Time comes in as an argument, so tests step it.

export interface ControlRateOptions {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size: messages a client may send at once. */
  burst: number;
  /** An episode of drops lasting this long cuts the client off. */
  cutOffAfterMs: number;
  /** This many drops in one episode cut the client off (a fast flood, sooner than cutOffAfterMs). */
  cutOffAfterDropped: number;
}

export const DEFAULT_CONTROL_RATE: ControlRateOptions = { perSecond: 50, burst: 100, cutOffAfterMs: 5000, cutOffAfterDropped: 1000 };

/** What to do with one incoming message. `drop_tell`: drop it and send the one error reply of this second. */
export type RateVerdict = 'accept' | 'drop' | 'drop_tell' | 'cut_off';

/** Told to the client with each `drop_tell`. */
export interface DropReport {
  droppedSinceTold: number;
  droppedInEpisode: number;
}

const TELL_EVERY_MS = 1000;
/** A second without a drop ends an episode. */
const EPISODE_QUIET_MS = 1000;

export class ControlRateLimit {
  private tokens: number;
  private lastMs: number;
  private episodeStartMs = 0;
  private lastDropMs = -Infinity;
  private lastToldMs = -Infinity;
  private droppedInEpisode = 0;
  private droppedSinceTold = 0;

  constructor(readonly opts: ControlRateOptions, nowMs: number) {
    this.tokens = opts.burst;
    this.lastMs = nowMs;
  }

  take(nowMs: number): RateVerdict {
    this.tokens = Math.min(this.opts.burst, this.tokens + ((nowMs - this.lastMs) * this.opts.perSecond) / 1000);
    this.lastMs = nowMs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'accept';
    }
    if (nowMs - this.lastDropMs >= EPISODE_QUIET_MS) {
      this.episodeStartMs = nowMs;
      this.droppedInEpisode = 0;
    }
    this.lastDropMs = nowMs;
    this.droppedInEpisode++;
    this.droppedSinceTold++;
    if (this.droppedInEpisode > this.opts.cutOffAfterDropped || nowMs - this.episodeStartMs >= this.opts.cutOffAfterMs) return 'cut_off';
    if (nowMs - this.lastToldMs < TELL_EVERY_MS) return 'drop';
    this.lastToldMs = nowMs;
    return 'drop_tell';
  }

  /** Drops since the last report and in this episode; resets the former (call on `drop_tell`). */
  report(): DropReport {
    const r = { droppedSinceTold: this.droppedSinceTold, droppedInEpisode: this.droppedInEpisode };
    this.droppedSinceTold = 0;
    return r;
  }
}
