// Buffers the import worker inflates recording chunks into, handed back by the page once it has
// copied a chunk's rows into its store (file-session.ts), so a load does not touch fresh memory per
// chunk: first touch of new pages costs far more than the inflate's writes on these machines
// (docs/performance.md, "The worker's memory and checkers").
//
// One pool per load (import-worker.ts): a buffer the page returns for an older load is not taken.
// A buffer is either free here, lent to an inflate, or posted to the page (transferred: the worker's
// handle is detached, so it cannot be written while the page reads it). `give` takes a returned one
// once; a detached or already free buffer is ignored, so no buffer is ever lent twice at once.

/** Posted buffers the page may hold before the worker waits for one back (the page's queue ahead). */
const MAX_OUT = 16;
/** Wait at most this long for a buffer back before allocating (a page that never returns must not stall a load). */
const WAIT_MS = 1000;

export class FramePool {
  private readonly free: ArrayBuffer[] = [];
  private readonly waiters: Array<() => void> = [];
  /** Buffers posted to the page and not given back yet. */
  private out = 0;
  private closed = false;
  /** New buffers made, and free ones lent again: what the tests and the bench look at. */
  allocated = 0;
  reused = 0;
  /** Wall ms with a take waiting for the page to hand a buffer back (the page was behind); overlapping waits count once. */
  waitedMs = 0;
  private waiting = 0;
  private waitSinceMs = 0;

  constructor(private readonly maxOut = MAX_OUT, private readonly waitMs = WAIT_MS) {}

  /** Free buffers held. */
  get freeCount(): number {
    return this.free.length;
  }

  /**
   * A buffer of at least `bytes`: a free one, else a new one — after waiting for one back while
   * `maxOut` are at the page (the page is behind; waiting lets its returns arrive).
   */
  async take(bytes: number): Promise<ArrayBuffer> {
    for (;;) {
      const i = this.free.findIndex((b) => b.byteLength >= bytes);
      if (i >= 0) {
        this.reused++;
        return this.free.splice(i, 1)[0]!;
      }
      if (this.closed || this.out < this.maxOut) break;
      if (this.waiting++ === 0) this.waitSinceMs = performance.now();
      const back = await this.waitForReturn();
      if (--this.waiting === 0) this.waitedMs += performance.now() - this.waitSinceMs;
      if (!back) break;
    }
    this.allocated++;
    return new ArrayBuffer(bytes);
  }

  /** A lent buffer went to the page (it comes back through `give`, or not at all). */
  posted(): void {
    this.out++;
  }

  /** A buffer the page is done with. */
  give(buf: ArrayBuffer): void {
    if (this.closed || !this.keep(buf)) return;
    if (this.out > 0) this.out--;
  }

  /** A lent buffer that was not posted (its inflate failed, or it was too small). */
  putBack(buf: ArrayBuffer): void {
    if (!this.closed) this.keep(buf);
  }

  /** The load is over: nothing is kept, nobody waits. */
  close(): void {
    this.closed = true;
    this.free.length = 0;
    for (const w of this.waiters.splice(0)) w();
  }

  private keep(buf: ArrayBuffer): boolean {
    if (buf.byteLength === 0 || this.free.includes(buf)) return false;
    this.free.push(buf);
    this.waiters.shift()?.();
    return true;
  }

  /** True when a buffer came back (or the pool closed), false after waitMs. */
  private waitForReturn(): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
      }, this.waitMs);
      this.waiters.push(wake);
    });
  }
}
