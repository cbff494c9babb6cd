import { afterEach, describe, expect, it, vi } from 'vitest';
import { mountCanvas, type CanvasScheduler } from './mount-canvas.ts';

/** A scheduler whose frames the test runs by hand. */
function fakeScheduler(): CanvasScheduler & { renderers: Set<() => void>; dirty: number; frame(): void } {
  const renderers = new Set<() => void>();
  return {
    renderers,
    dirty: 0,
    markDirty() { this.dirty++; },
    addRenderer(render) { renderers.add(render); return () => { renderers.delete(render); }; },
    frame() { for (const r of renderers) r(); },
  };
}

/** The parts of a canvas sizeCanvas touches, with a context recording its transform. */
function fakeCanvas(parent: { clientWidth: number; clientHeight: number } | null) {
  const transforms: number[][] = [];
  const ctx = { setTransform: (...m: number[]) => { transforms.push(m); } };
  const canvas = { width: 300, height: 150, style: { width: '', height: '' }, parentElement: parent, getContext: () => ctx };
  return { canvas: canvas as unknown as HTMLCanvasElement, raw: canvas, ctx, transforms };
}

afterEach(() => { vi.unstubAllGlobals(); });

describe('mountCanvas', () => {
  it('draws on the scheduler frames with the box size, sized in device px, until disposed', () => {
    const s = fakeScheduler();
    const box = { clientWidth: 640, clientHeight: 200 };
    const { canvas, raw, ctx, transforms } = fakeCanvas(box);
    const seen: Array<[number, number]> = [];
    const dispose = mountCanvas(s, canvas, (surface) => {
      seen.push([surface.boxWidthPx, surface.boxHeightPx]);
      expect(surface.resize(surface.boxWidthPx, 90)).toBe(ctx);
    }, { dpr: () => 2 });
    expect(s.dirty).toBe(1); // the first frame draws
    expect(s.renderers.size).toBe(1);
    s.frame();
    expect(seen).toEqual([[640, 200]]);
    // 640 × 90 CSS px at DPR 2: a 1280 × 180 backing store, drawn in CSS px through one transform.
    expect([raw.width, raw.height, raw.style.width, raw.style.height]).toEqual([1280, 180, '640px', '90px']);
    expect(transforms).toEqual([[2, 0, 0, 2, 0, 0]]);
    box.clientWidth = 500; // no ResizeObserver here: the size is read live
    s.frame();
    expect(seen[1]).toEqual([500, 200]);
    dispose();
    expect(s.renderers.size).toBe(0);
    s.frame();
    expect(seen).toHaveLength(2);
    dispose(); // twice is harmless
  });

  it('with a ResizeObserver: a resize marks the page dirty, dispose disconnects it', () => {
    const observers: Array<{ cb: () => void; disconnected: boolean }> = [];
    vi.stubGlobal('ResizeObserver', class {
      private readonly rec: { cb: () => void; disconnected: boolean };
      constructor(cb: () => void) { this.rec = { cb, disconnected: false }; observers.push(this.rec); }
      observe(): void {}
      disconnect(): void { this.rec.disconnected = true; }
    });
    const s = fakeScheduler();
    const box = { clientWidth: 400, clientHeight: 100 };
    const { canvas } = fakeCanvas(box);
    let widthSeen = 0;
    const dispose = mountCanvas(s, canvas, (surface) => { widthSeen = surface.boxWidthPx; }, { dpr: () => 1 });
    expect(observers).toHaveLength(1);
    box.clientWidth = 720;
    s.frame();
    expect(widthSeen).toBe(400); // kept from the observer, not read in the frame
    const dirtyBefore = s.dirty;
    observers[0]!.cb();
    expect(s.dirty).toBe(dirtyBefore + 1);
    s.frame();
    expect(widthSeen).toBe(720);
    dispose();
    expect(observers[0]!.disconnected).toBe(true);
  });

  it('refuses a canvas with no box to follow', () => {
    const { canvas } = fakeCanvas(null);
    expect(() => mountCanvas(fakeScheduler(), canvas, () => {})).toThrow(/no box/);
  });
});
