// What a Canvas2D rectangle costs in this Chromium (the P3r evidence in docs/performance.md): the
// deep-zoom frame of a 10 M-event trace draws ~5,000 narrow rects, so their cost decides it. Each
// way of drawing N rects (1–4 px wide, 9 px tall, 8 colours, on a 1400 × 300 opaque canvas, the
// size of the timeline's plot at the bench's viewport) is timed with a forced raster (1-px
// getImageData), median of 30, three rounds. Not part of `npm run bench`.
//   node --import tsx bench/canvas-rects.ts [rects=5000]
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.mjs';

const count = Number(process.argv[2] ?? 5000);
const browser = await chromium.launch({ executablePath: findChromium()!, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
  await page.setContent('<canvas id="c" width="1400" height="300"></canvas>');
  await page.evaluate('globalThis.__name = (f) => f'); // tsx names the page function's closures with it
  const rows = await page.evaluate((n) => {
    const canvas = document.getElementById('c') as HTMLCanvasElement;
    const ctx = canvas.getContext('2d', { alpha: false })!;
    const colours = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7'];
    const rgba = colours.map((c) => { const v = parseInt(c.slice(1), 16); return (0xff << 24 | (v & 0xff) << 16 | (v & 0xff00) | v >> 16) >>> 0; });
    // A fixed pseudo-random layout, the same for every way.
    let seed = 1;
    const rand = (): number => ((seed = (seed * 48271) % 0x7fff_ffff) / 0x7fff_ffff);
    const xPx = Float64Array.from({ length: n }, () => 150 + rand() * 1240);
    const widthPx = Float64Array.from({ length: n }, () => 0.5 + rand() * 3.5);
    const yPx = Float64Array.from({ length: n }, (_, i) => 1 + (i % 24) * 12);
    const pal = Uint8Array.from({ length: n }, (_, i) => i % colours.length);
    const snapped = (i: number): [number, number] => { const x0 = Math.round(xPx[i]!); return [x0, Math.max(1, Math.round(xPx[i]! + widthPx[i]!) - x0)]; };
    const image = ctx.createImageData(1400, 300);
    const pixels = new Uint32Array(image.data.buffer);
    const ways: Record<string, () => void> = {
      'fillRect, fractional x': () => { for (let i = 0; i < n; i++) { ctx.fillStyle = colours[pal[i]!]!; ctx.fillRect(xPx[i]!, yPx[i]!, widthPx[i]!, 9); } },
      'fillRect, whole px': () => { for (let i = 0; i < n; i++) { ctx.fillStyle = colours[pal[i]!]!; const [x, w] = snapped(i); ctx.fillRect(x, yPx[i]!, w, 9); } },
      'fillRect, whole px, by colour': () => {
        for (let c = 0; c < colours.length; c++) { ctx.fillStyle = colours[c]!; for (let i = c; i < n; i += colours.length) { const [x, w] = snapped(i); ctx.fillRect(x, yPx[i]!, w, 9); } }
      },
      'one path per colour': () => {
        for (let c = 0; c < colours.length; c++) {
          ctx.fillStyle = colours[c]!;
          ctx.beginPath();
          for (let i = c; i < n; i += colours.length) { const [x, w] = snapped(i); ctx.rect(x, yPx[i]!, w, 9); }
          ctx.fill();
        }
      },
      // Pixels written in JS, the whole plot put back: a fixed cost for the buffer, little per rect.
      'ImageData (whole plot)': () => {
        pixels.fill(0xffff_ffff);
        for (let i = 0; i < n; i++) {
          const [x, w] = snapped(i);
          for (let y = yPx[i]!; y < yPx[i]! + 9; y++) pixels.fill(rgba[pal[i]!]!, y * 1400 + x, y * 1400 + x + w);
        }
        ctx.putImageData(image, 0, 0);
      },
      'ImageData, no rects': () => { pixels.fill(0xffff_ffff); ctx.putImageData(image, 0, 0); },
    };
    const medians: Record<string, number[]> = {};
    for (let round = 0; round < 3; round++) {
      for (const [name, draw] of Object.entries(ways)) {
        const ms: number[] = [];
        for (let k = 0; k < 30; k++) {
          const t0 = performance.now();
          ctx.fillStyle = '#fff';
          ctx.fillRect(0, 0, 1400, 300);
          draw();
          ctx.getImageData(0, 0, 1, 1);
          ms.push(performance.now() - t0);
        }
        ms.sort((a, b) => a - b);
        (medians[name] ??= []).push(ms[15]!);
      }
    }
    return Object.entries(medians).map(([name, ms]) => ({ name, ms }));
  }, count);
  console.log(`${count} rects on a 1400 × 300 canvas, median ms per frame (forced raster) in 3 rounds:`);
  for (const r of rows) console.log(`${r.name.padEnd(32)} ${r.ms.map((m) => m.toFixed(2)).join('  ')}`);
} finally {
  await browser.close();
}
