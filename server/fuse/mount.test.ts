// `fusescope mount` against the real kernel: needs root and /dev/fuse (CI has both). Each test
// starts the CLI as its own process on a temp dir, drives it with real syscalls from another child
// process, and always unmounts.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { instrumentSession, listenInstrument, type InstrumentListener } from '../sources/instrument.ts';
import { LiveSession } from '../hub/live-session.ts';
import { startServer } from '../http-server.ts';
import { spawnMount, type SpawnedMount, type SpawnMountOptions } from './spawn.ts';
import { TraceStore } from '../../src/trace/store.ts';
import { applyBatch, decodeBatch } from '../../src/trace/wire.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/fusescope.mjs');
const whyNot = process.getuid?.() !== 0 ? 'not root' : !existsSync('/dev/fuse') ? 'no /dev/fuse' : spawnSync('mount', ['--version']).status !== 0 ? 'no mount(8)' : '';
if (whyNot) {
  process.stderr.write(`\n*** server/fuse/mount.test.ts SKIPPED: ${whyNot} — fusescope mount needs root and /dev/fuse ***\n\n`);
}

const O_DIRECT = 0o40000;
const DIRECT = 8, UNWRITTEN = 2, APPEND = 16, WRITEBACK = 32;
const MAPPED = 2, UNWRITTEN_MAP = 3, HOLE = 0;
const OP_WRITE = 16, OP_READ = 15, OP_LOOKUP = 1;

const servers: SpawnedMount[] = [];
const dirs: string[] = [];
const listeners: InstrumentListener[] = [];

function isMounted(dir: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === dir);
}

afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) {
    const m = join(d, 'mnt');
    while (isMounted(m)) spawnSync('umount', ['-l', m]);
    rmSync(d, { recursive: true, force: true });
  }
  for (const l of listeners.splice(0)) await l.close();
});

function tempDir(): { dir: string; mnt: string; img: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fusescope-mount-'));
  dirs.push(dir);
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  return { dir, mnt, img: join(dir, 'fs.img') };
}

/** Starts `fusescope mount` (spawnMount: waits for its "mounted" line); afterEach stops it. */
async function mount(o: SpawnMountOptions): Promise<SpawnedMount> {
  const s = await spawnMount(o);
  servers.push(s);
  return s;
}

const stop = (s: SpawnedMount): Promise<number | null> => s.stop();

/** Runs `body` (a function of the mount dir, as source) in a child node process; returns its JSON result. */
function inChild(mnt: string, body: string): any {
  const code = `const fs = require('fs'); const cp = require('child_process'); const path = require('path');
const m = process.argv[1]; const out = (${body})(m); process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['-e', code, mnt], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`workload failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * What `fusescope serve --instrument SOCK` runs, in this process: the instrumentation listener as the
 * live session's only source, served over HTTP + websocket; a websocket client applies the wire
 * batches it streams to a store, as the browser does.
 */
async function serveInstrument(sock: string): Promise<{ events: () => TraceEvent[]; close: () => Promise<void> }> {
  const l = await listenInstrument({ path: sock }, { drainMs: 5 });
  listeners.push(l);
  const session = new LiveSession(instrumentSession(l));
  const dist = mkdtempSync(join(tmpdir(), 'fusescope-dist-'));
  dirs.push(dist);
  writeFileSync(join(dist, 'index.html'), '<!doctype html>');
  const server = await startServer({ host: '127.0.0.1', port: 0, distDir: dist, session });
  session.start();
  const store = new TraceStore();
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
  ws.on('message', (data, isBinary) => { if (isBinary) applyBatch(store, decodeBatch(new Uint8Array(data as Buffer))); });
  await new Promise((ok) => ws.once('open', ok));
  return {
    events: () => Array.from({ length: store.length }, (_, i) => store.get(i)),
    close: async () => { ws.close(); session.stop(); await server.close(); },
  };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(whyNot !== '')('fusescope mount on the real kernel', () => {
  it('serves real syscalls (dirs, files, O_DIRECT, fallocate, truncate, link, rename, unlink, readdir, statfs) and keeps them across a remount', async () => {
    const { mnt, img } = tempDir();
    const s = await mount({ mkfs: '16M', image: img, dir: mnt });
    const r = inChild(mnt, `(m) => {
      const r = {};
      fs.mkdirSync(path.join(m, 'd'));
      fs.writeFileSync(path.join(m, 'd/f'), 'hello world');
      r.readBack = fs.readFileSync(path.join(m, 'd/f'), 'utf8');
      // O_DIRECT: 64 KiB of a pattern, written and read back around the page cache.
      const pat = Buffer.alloc(65536); for (let i = 0; i < pat.length; i++) pat[i] = (i * 7) & 255;
      let fd = fs.openSync(path.join(m, 'd/dio'), fs.constants.O_CREAT | fs.constants.O_RDWR | ${O_DIRECT});
      r.dioWritten = fs.writeSync(fd, pat, 0, pat.length, 0);
      const back = Buffer.alloc(65536); r.dioRead = fs.readSync(fd, back, 0, back.length, 0);
      r.dioSame = back.equals(pat);
      fs.closeSync(fd);
      // fallocate 3 blocks: size 12288, 24 sectors allocated, reads zeros; then a write in the middle.
      cp.execFileSync('fallocate', ['-l', '12288', path.join(m, 'd/fa')]);
      const st = fs.statSync(path.join(m, 'd/fa')); r.faSize = st.size; r.faBlocks = st.blocks;
      r.faZeros = fs.readFileSync(path.join(m, 'd/fa')).every((b) => b === 0);
      fd = fs.openSync(path.join(m, 'd/fa'), 'r+'); fs.writeSync(fd, Buffer.from('XYZ'), 0, 3, 5000); fs.closeSync(fd);
      const fa = fs.readFileSync(path.join(m, 'd/fa'));
      r.faAround = [...fa.subarray(4998, 5005)];
      r.faSizeAfter = fa.length;
      // truncate down then up: the cut bytes come back as zeros.
      fs.truncateSync(path.join(m, 'd/f'), 5); fs.truncateSync(path.join(m, 'd/f'), 8);
      r.truncated = [...fs.readFileSync(path.join(m, 'd/f'))];
      // SETATTR mode and times.
      fs.chmodSync(path.join(m, 'd/f'), 0o600);
      fs.utimesSync(path.join(m, 'd/f'), 1000000000, 1234567890);
      const sa = fs.statSync(path.join(m, 'd/f'));
      r.mode = (sa.mode & 0o7777).toString(8); r.atime = sa.atimeMs / 1000; r.mtime = sa.mtimeMs / 1000;
      fs.linkSync(path.join(m, 'd/f'), path.join(m, 'link'));
      r.linkIno = fs.statSync(path.join(m, 'link')).ino === fs.statSync(path.join(m, 'd/f')).ino;
      r.nlink = fs.statSync(path.join(m, 'link')).nlink;
      fs.renameSync(path.join(m, 'link'), path.join(m, 'd/moved'));
      fs.unlinkSync(path.join(m, 'd/f'));
      r.dir = fs.readdirSync(path.join(m, 'd')).sort();
      r.root = fs.readdirSync(m).sort();
      r.movedContent = fs.readFileSync(path.join(m, 'd/moved'), 'latin1');
      try { fs.rmdirSync(path.join(m, 'd')); r.rmdir = 'ok'; } catch (e) { r.rmdir = e.code; }
      fs.mkdirSync(path.join(m, 'empty')); fs.rmdirSync(path.join(m, 'empty'));
      const sf = fs.statfsSync(m); r.statfs = { bsize: sf.bsize, blocks: sf.blocks, used: sf.blocks - sf.bfree };
      // A listing longer than one READDIR batch (4 KiB): every name once, with its type.
      fs.mkdirSync(path.join(m, 'many'));
      for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(m, 'many', 'file-' + String(i).padStart(3, '0')), '');
      fs.mkdirSync(path.join(m, 'many/sub'));
      const listed = fs.readdirSync(path.join(m, 'many'), { withFileTypes: true });
      r.manyCount = listed.length;
      r.manyNames = new Set(listed.map((e) => e.name)).size;
      r.manyFiles = listed.filter((e) => e.isFile()).length;
      r.manyDirs = listed.filter((e) => e.isDirectory()).map((e) => e.name);
      return r;
    }`);
    expect(r.readBack).toBe('hello world');
    expect(r.dioWritten).toBe(65536);
    expect(r.dioRead).toBe(65536);
    expect(r.dioSame).toBe(true);
    expect(r.faSize).toBe(12288);
    expect(r.faBlocks).toBe(24);
    expect(r.faZeros).toBe(true);
    expect(r.faAround).toEqual([0, 0, 88, 89, 90, 0, 0]);
    expect(r.faSizeAfter).toBe(12288);
    expect(r.truncated).toEqual([...Buffer.from('hello'), 0, 0, 0]);
    expect([r.mode, r.atime, r.mtime]).toEqual(['600', 1000000000, 1234567890]);
    expect(r.linkIno).toBe(true);
    expect(r.nlink).toBe(2);
    expect(r.dir).toEqual(['dio', 'fa', 'moved']);
    expect(r.root).toEqual(['d']);
    expect(r.movedContent).toBe('hello\0\0\0');
    expect(r.rmdir).toBe('ENOTEMPTY');
    expect([r.manyCount, r.manyNames, r.manyFiles, r.manyDirs]).toEqual([301, 301, 300, ['sub']]);
    // 16 MiB in 4 KiB blocks; used: the metadata area (superblock, 1 bitmap block, 1024 inodes × 256 B = 64 blocks),
    // dio 16 + fa 3 + moved 1 + the root's and d's directory blocks 2.
    expect(r.statfs).toEqual({ bsize: 4096, blocks: 4096, used: 1 + 1 + 64 + 16 + 3 + 1 + 2 });
    expect(await stop(s)).toBe(0);
    expect(isMounted(mnt)).toBe(false);

    const again = await mount({ image: img, dir: mnt });
    const r2 = inChild(mnt, `(m) => ({
      dir: fs.readdirSync(path.join(m, 'd')).sort(),
      moved: fs.readFileSync(path.join(m, 'd/moved'), 'latin1'),
      nlink: fs.statSync(path.join(m, 'd/moved')).nlink,
      mode: (fs.statSync(path.join(m, 'd/moved')).mode & 0o7777).toString(8),
      mtime: fs.statSync(path.join(m, 'd/moved')).mtimeMs / 1000,
      fa: [...fs.readFileSync(path.join(m, 'd/fa')).subarray(4998, 5005)],
      dioFirst: [...fs.readFileSync(path.join(m, 'd/dio')).subarray(0, 4)],
    })`);
    expect(r2).toEqual({ dir: ['dio', 'fa', 'moved'], moved: 'hello\0\0\0', nlink: 1, mode: '600', mtime: 1234567890, fa: [0, 0, 88, 89, 90, 0, 0], dioFirst: [0, 7, 14, 21] });
    expect(await stop(again)).toBe(0);
  }, 180_000);

  for (const policy of ['per-path', 'ino'] as const) {
    it(`--policy ${policy}: a hardlink's two names are ${policy === 'per-path' ? 'two nodeids' : 'one nodeid'} with one st_ino; the live session gets the requests and iomap events`, async () => {
      const { dir, mnt, img } = tempDir();
      const live = await serveInstrument(join(dir, 'instr.sock'));
      const s = await mount({ mkfs: '16M', policy, instrument: join(dir, 'instr.sock'), image: img, dir: mnt });
      const r = inChild(mnt, `(m) => {
        fs.mkdirSync(path.join(m, 'd1')); fs.mkdirSync(path.join(m, 'd2'));
        // 8 KiB O_DIRECT into a new file: allocated unwritten, converted by the (direct) ioend, size appended.
        let fd = fs.openSync(path.join(m, 'd1/file'), fs.constants.O_CREAT | fs.constants.O_RDWR | ${O_DIRECT});
        fs.writeSync(fd, Buffer.alloc(8192, 1), 0, 8192, 0); fs.closeSync(fd);
        fs.linkSync(path.join(m, 'd1/file'), path.join(m, 'd2/link'));
        // Buffered overwrite of written blocks through the other name: MAPPED, a writeback ioend with nothing to convert.
        fd = fs.openSync(path.join(m, 'd2/link'), 'r+'); fs.writeSync(fd, Buffer.alloc(100, 2), 0, 100, 4096); fs.closeSync(fd);
        // O_DIRECT read of 3 blocks: 2 mapped, then the hole past EOF is not read (short read).
        fd = fs.openSync(path.join(m, 'd1/file'), fs.constants.O_RDONLY | ${O_DIRECT});
        const n = fs.readSync(fd, Buffer.alloc(12288), 0, 12288, 0); fs.closeSync(fd);
        const a = fs.statSync(path.join(m, 'd1/file')), b = fs.statSync(path.join(m, 'd2/link'));
        return { inoA: a.ino, inoB: b.ino, read: n };
      }`);
      expect(r.inoA).toBe(r.inoB); // the kernel shows one st_ino through both names
      // The connection's device as the kernel names the mount (major << 20 | minor), for iomap_begin's fsDev.
      const [major, minor] = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === mnt)!.split(' ')[2]!.split(':').map(Number) as [number, number];
      expect(r.read).toBe(8192);
      expect(await stop(s)).toBe(0);
      await until(() => live.events().some((e) => e.kind === 'diag' && e.code === 'disconnected'), 'the connection to close');
      const got = live.events();
      await live.close();

      // Every line passed the instrumentation validator: no bad lines, only the connection's own info diags.
      const diags = got.filter((e) => e.kind === 'diag');
      expect(diags.filter((d) => d.kind === 'diag' && d.severity !== 'info')).toEqual([]);
      const lookups = got.filter((e) => e.kind === 'inode_lookup');
      const file = lookups.find((e) => e.kind === 'inode_lookup' && e.path === '/d1/file');
      const link = lookups.find((e) => e.kind === 'inode_lookup' && e.path === '/d2/link');
      expect(file && link).toBeTruthy();
      if (file?.kind !== 'inode_lookup' || link?.kind !== 'inode_lookup') return;
      expect(file.ino).toBe(r.inoA);
      expect(link.ino).toBe(r.inoA);
      if (policy === 'per-path') {
        expect(link.nodeId).not.toBe(file.nodeId);
        expect(link.aliasOf).toBe(file.nodeId);
      } else {
        expect(link.nodeId).toBe(file.nodeId);
        expect(file.nodeId).toBe(r.inoA);
        expect(link.aliasOf).toBe(0);
      }
      // Requests: each fuse_recv has its fuse_reply; LOOKUPs and WRITEs among them.
      const recvs = got.filter((e) => e.kind === 'fuse_recv');
      const replies = new Set(got.filter((e) => e.kind === 'fuse_reply').map((e) => e.kind === 'fuse_reply' && e.unique));
      expect(recvs.filter((e) => e.kind === 'fuse_recv' && e.opcode !== 2 && e.opcode !== 42 && !replies.has(e.unique))).toEqual([]);
      expect(recvs.some((e) => e.kind === 'fuse_recv' && e.opcode === OP_LOOKUP)).toBe(true);
      const writes = recvs.filter((e) => e.kind === 'fuse_recv' && e.opcode === OP_WRITE);
      expect(writes.length).toBe(2);

      const maps = got.filter((e) => e.kind === 'iomap_map');
      const ioends = got.filter((e) => e.kind === 'iomap_ioend');
      const ALL_ONES = 0xffffffffffffffffn;
      // The direct write: asked as WRITE|DIRECT (1|16) for 8 KiB at 0 on the mount's device; one UNWRITTEN mapping
      // of blocks 0-1 on nodeid of d1/file (backing device 1); then DIRECT|UNWRITTEN|APPEND, sent.
      expect(got.find((e) => e.kind === 'iomap_begin')).toMatchObject({ nodeId: file.nodeId, opflags: 17, posBytes: 0, lenBytes: 8192, fsDev: major * 2 ** 20 + minor });
      expect(maps[0]).toMatchObject({ nodeId: file.nodeId, ino: r.inoA, slot: 'write', mapType: UNWRITTEN_MAP, mapOffsetBytes: 0, mapLenBytes: 8192, mapDev: 1 });
      expect(ioends[0]).toMatchObject({ nodeId: file.nodeId, posBytes: 0, writtenBytes: 8192, ioendFlags: DIRECT | UNWRITTEN | APPEND, newAddr: ALL_ONES, newSizeBytes: 8192, sent: true });
      // The buffered overwrite through d2/link: MAPPED block 1 at the disk address block 1 of the first mapping + 4096,
      // a writeback ioend (start sector of byte 4096 of the file) that would not have been sent.
      const diskStart = (maps[0] as { mapAddr: bigint }).mapAddr;
      expect(maps[1]).toMatchObject({ nodeId: link.nodeId, slot: 'write', mapType: MAPPED, mapOffsetBytes: 4096, mapLenBytes: 4096, mapAddr: diskStart + 4096n });
      expect(ioends[1]).toMatchObject({ nodeId: link.nodeId, posBytes: 4096, writtenBytes: 100, ioendFlags: WRITEBACK, newAddr: (diskStart + 4096n) / 512n, newSizeBytes: 8192, sent: false });
      // The direct read: the read slot, both blocks MAPPED in one piece (the overwrite did not split them).
      const reads = maps.filter((e) => e.kind === 'iomap_map' && e.slot === 'read');
      expect(reads).toHaveLength(1);
      expect(reads[0]).toMatchObject({ mapType: MAPPED, mapOffsetBytes: 0, mapLenBytes: 8192, mapAddr: diskStart });
      expect(recvs.some((e) => e.kind === 'fuse_recv' && e.opcode === OP_READ)).toBe(true);
      expect(maps.some((e) => e.kind === 'iomap_map' && e.mapType === HOLE)).toBe(false);
    }, 180_000);
  }

  it('SIGTERM unmounts even while another process holds a file open on the mount', async () => {
    const { mnt, img } = tempDir();
    const s = await mount({ mkfs: '16M', image: img, dir: mnt });
    inChild(mnt, `(m) => { fs.writeFileSync(path.join(m, 'held'), 'x'); return 0; }`);
    const holder = spawn('sh', ['-c', 'exec 7<"$0"; echo open; sleep 60', join(mnt, 'held')], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((ok) => holder.stdout!.once('data', ok));
      expect(await stop(s)).toBe(0); // a plain umount is refused (busy): the lazy one detaches it
      expect(isMounted(mnt)).toBe(false);
      expect(s.stderr()).toMatch(/unmounted /);
    } finally {
      holder.kill('SIGKILL');
    }
  }, 180_000);

  it('after a SIGKILL, --cleanup (and the next start on the same DIR) leaves nothing mounted', async () => {
    const { mnt, img } = tempDir();
    const s = await mount({ mkfs: '16M', image: img, dir: mnt });
    s.proc.kill('SIGKILL');
    await s.exited;
    expect(isMounted(mnt)).toBe(true); // the dead server's mount is still there
    const c = spawnSync(process.execPath, [BIN, 'mount', '--cleanup', mnt], { encoding: 'utf8', timeout: 60_000 });
    expect(c.status).toBe(0);
    expect(c.stderr).toMatch(/unmounted 1 fusescope mount/);
    expect(isMounted(mnt)).toBe(false);

    const s2 = await mount({ image: img, dir: mnt });
    s2.proc.kill('SIGKILL');
    await s2.exited;
    expect(isMounted(mnt)).toBe(true);
    const s3 = await mount({ image: img, dir: mnt }); // removes the stale mount, then mounts
    expect(s3.stderr()).toMatch(/removed 1 stale fusescope mount/);
    expect(statSync(mnt).ino).toBe(1); // the root of our filesystem, not a dead connection
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === mnt);
    expect(mounts).toHaveLength(1);
    expect(await stop(s3)).toBe(0);
    expect(isMounted(mnt)).toBe(false);
  }, 180_000);
});
