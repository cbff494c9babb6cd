// The import worker's pool of batch buffers (frame-pool.ts): a returned buffer is lent again, once;
// a detached or repeated return is ignored; a closed pool (a finished or cancelled load) keeps nothing.
import { describe, expect, it } from 'vitest';
import { FramePool } from './frame-pool.ts';

/** `buf` moved away as postMessage's transfer does: the sender's handle is detached (byteLength 0). */
const moved = (buf: ArrayBuffer): ArrayBuffer => structuredClone(buf, { transfer: [buf] });

describe('FramePool', () => {
  it('lends a returned buffer again, and makes a new one only while none fits', async () => {
    const pool = new FramePool();
    const a = await pool.take(100);
    expect(a.byteLength).toBe(100);
    pool.posted();
    const atPage = moved(a);
    expect(a.byteLength).toBe(0); // the worker cannot write it while the page has it
    pool.give(moved(atPage));
    const b = await pool.take(80); // fits in the returned 100 bytes
    expect(b.byteLength).toBe(100);
    const c = await pool.take(200); // none free: a new one
    expect(c.byteLength).toBe(200);
    expect({ allocated: pool.allocated, reused: pool.reused }).toEqual({ allocated: 2, reused: 1 });
  });

  it('a buffer given twice, or a detached one, is kept once: never lent to two chunks', async () => {
    const pool = new FramePool();
    const a = await pool.take(64);
    pool.posted();
    const back = moved(moved(a));
    pool.give(back);
    pool.give(back);
    const detached = new ArrayBuffer(64);
    moved(detached);
    pool.give(detached);
    expect(pool.freeCount).toBe(1);
    const x = await pool.take(64);
    const y = await pool.take(64);
    expect(x).toBe(back);
    expect(y).not.toBe(back);
    expect(pool.allocated).toBe(2);
  });

  it('with maxOut buffers at the page, take waits for one back instead of allocating', async () => {
    const pool = new FramePool(1, 60_000);
    const a = await pool.take(10);
    pool.posted();
    let got: ArrayBuffer | null = null;
    const waiting = pool.take(10).then((b) => { got = b; });
    await Promise.resolve();
    expect(got).toBeNull();
    pool.give(moved(a));
    await waiting;
    expect(got!.byteLength).toBe(10);
    expect(pool.allocated).toBe(1);
  });

  it('closed (the load is over or cancelled): returns are dropped and a waiting take goes on with a new buffer', async () => {
    const pool = new FramePool(1, 60_000);
    const a = await pool.take(10);
    pool.posted();
    const waiting = pool.take(10);
    pool.close();
    expect((await waiting).byteLength).toBe(10);
    pool.give(moved(a));
    expect(pool.freeCount).toBe(0);
  });
});
