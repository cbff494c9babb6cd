// An element's client size, kept by a ResizeObserver. Reading `clientWidth` in a frame forces a
// synchronous layout whenever the DOM changed since the last one — and every frame changes it (axis
// ticks, counters) — so each view that read its box's size paid a layout (~2 ms a frame at 10 M
// events, the locks view's largest cost). A ResizeObserver callback runs after layout, when the
// read is free; the view then redraws at the next frame with the new size.

export class ElementSize {
  private widthNow: number;
  private heightNow: number;
  private readonly ro: ResizeObserver | null;

  /** `onChange`: the size changed (e.g. mark the scheduler dirty). */
  constructor(private readonly el: HTMLElement, onChange: () => void) {
    this.widthNow = el.clientWidth;
    this.heightNow = el.clientHeight;
    if (typeof ResizeObserver === 'undefined') {
      this.ro = null; // no observer (a bare DOM): read live
      return;
    }
    this.ro = new ResizeObserver(() => {
      this.widthNow = el.clientWidth;
      this.heightNow = el.clientHeight;
      onChange();
    });
    this.ro.observe(el);
  }

  get widthPx(): number { return this.ro ? this.widthNow : this.el.clientWidth; }
  get heightPx(): number { return this.ro ? this.heightNow : this.el.clientHeight; }

  dispose(): void {
    this.ro?.disconnect();
  }
}
