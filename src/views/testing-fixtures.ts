// Test-only helpers shared by the view model tests: a store fed through every derived index, and
// a recording canvas fake ([FP] test/fixtures/mocks/canvas-context.ts). Imported only by *.test.ts.

export { derived } from '../trace/testing/derived.ts';

export function recordingContext<T>(): { ctx: T; log: string[][] } {
  const log: string[][] = [];
  const ctx = {
    fillStyle: '' as string | CanvasPattern, strokeStyle: '', globalAlpha: 1, font: '', lineWidth: 1,
    textBaseline: 'alphabetic', textAlign: 'start',
    fillRect(...a: number[]) { log.push(['fillRect', String(this.fillStyle), ...a.map(String)]); },
    strokeRect(...a: number[]) { log.push(['strokeRect', ...a.map(String)]); },
    fillText(text: string, ...a: number[]) { log.push(['fillText', text, ...a.map(String)]); },
    save() {}, restore() {}, beginPath() {}, rect() {}, clip() {}, closePath() {}, fill() {}, arc() {},
    moveTo() {}, lineTo() {}, stroke() { log.push(['stroke']); },
  };
  return { ctx: ctx as unknown as T, log };
}
