// The page's one frame loop ([PF] core/raf_scheduler.ts). Data arrival and UI-state changes only
// mark it dirty; at most one requestAnimationFrame is pending. In a frame, queued actions (pan,
// zoom, follow-live range updates) run first, then every renderer once.

import type { FrameScheduler } from '../views/host.ts';

type Raf = (cb: (timeMs: number) => void) => number;
type Caf = (id: number) => void;

export class RafScheduler implements FrameScheduler {
  /** Frames rendered so far (test hook). */
  frames = 0;
  /** Wall ms the last frame's actions + renderers took. */
  lastFrameMs = 0;
  /** performance.now() of the last frame or markDirty (for idle detection). */
  lastActivityMs = 0;

  private readonly renderers = new Set<() => void>();
  private readonly beforeFrame = new Set<() => void>();
  private actions: (() => void)[] = [];
  private rafId: number | null = null;
  private disposed = false;

  constructor(
    private readonly raf: Raf = (cb) => requestAnimationFrame(cb),
    private readonly caf: Caf = (id) => cancelAnimationFrame(id),
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  get isFramePending(): boolean {
    return this.rafId !== null;
  }

  markDirty(): void {
    this.lastActivityMs = this.nowMs();
    if (this.rafId !== null || this.disposed) return;
    this.rafId = this.raf(() => this.frame());
  }

  scheduleAction(action: () => void): void {
    this.actions.push(action);
    this.markDirty();
  }

  addRenderer(render: () => void): () => void {
    this.renderers.add(render);
    this.markDirty();
    return () => this.renderers.delete(render);
  }

  /** Hooks that run at the start of every frame, before actions (e.g. follow-live). */
  addBeforeFrame(hook: () => void): () => void {
    this.beforeFrame.add(hook);
    return () => this.beforeFrame.delete(hook);
  }

  dispose(): void {
    this.disposed = true;
    if (this.rafId !== null) this.caf(this.rafId);
    this.rafId = null;
  }

  private frame(): void {
    const t0 = this.nowMs();
    this.rafId = null;
    for (const hook of this.beforeFrame) hook();
    const actions = this.actions;
    this.actions = [];
    for (const a of actions) a();
    for (const r of this.renderers) r();
    this.frames++;
    const t1 = this.nowMs();
    this.lastFrameMs = t1 - t0;
    this.lastActivityMs = t1;
  }
}
