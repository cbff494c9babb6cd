// Validation of user-supplied scenario JSON (`--scenario FILE`, and every spec a Simulation is
// built from). Messages name the field path, e.g.
// `scenario.threads[1].ops[0].lenBytes: direct IO needs a multiple of 4096, got 1000`.

import { CACHE_DEFAULT_MAX_BYTES, CACHE_MAX_MAX_BYTES, PROTOCOL_REVISIONS } from '../../../src/trace/fuse-proto.ts';
import {
  BLOCK_BYTES, DEFAULT_COSTS, OP_KINDS, type CostModel, type FaultSpec, type FileSpec, type OpSpec, type ScenarioSpec, type ThreadSpec,
} from './spec.ts';

const MiB = 1024 * 1024;
const US = 1000;

class SpecError extends Error {}

function fail(path: string, msg: string): never {
  throw new SpecError(`${path}: ${msg}`);
}
function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function obj(v: unknown, path: string): Record<string, unknown> {
  if (!isObj(v)) fail(path, `expected an object, got ${JSON.stringify(v)}`);
  return v;
}
function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, `expected an array, got ${JSON.stringify(v)}`);
  return v;
}
function str(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}
function int(v: unknown, path: string, minIncl: number, maxIncl = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < minIncl || v > maxIncl) {
    fail(path, `expected an integer in [${minIncl}, ${maxIncl}], got ${JSON.stringify(v)}`);
  }
  return v;
}
function bool(v: unknown, path: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') fail(path, `expected a boolean, got ${JSON.stringify(v)}`);
  return v;
}
function oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    fail(path, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}
function absPath(v: unknown, path: string): string {
  const p = str(v, path);
  if (!/^(\/[^/\0]+)+$/.test(p) || p.split('/').some((c) => c === '.' || c === '..')) {
    fail(path, `expected an absolute path like /dir/file without . or .., got ${JSON.stringify(p)}`);
  }
  return p;
}
function onlyKeys(o: Record<string, unknown>, path: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${path}.${k}`, `unknown field (known: ${keys.join(', ')})`);
}

const MAX_FILE_BYTES = 2 ** 40; // keeps every offset exact in a double and the extent tree small

/** Turns a user's JSON object into a ScenarioSpec (defaults filled in) or throws an Error naming the field. */
export function parseScenario(input: unknown, root = 'scenario'): ScenarioSpec {
  const o = obj(input, root);
  onlyKeys(o, root, ['name', 'description', 'files', 'threads', 'policy', 'serverThreads', 'revision', 'writebackIntervalNs', 'faults', 'costs',
    'backend', 'cookieValidation', 'serverCache', 'cacheMaxBytes', 'serverWrites', 'atomicWrites']);
  const name = o.name === undefined ? 'custom' : str(o.name, `${root}.name`);
  const description = o.description === undefined ? '' : str(o.description, `${root}.description`);

  const files = arr(o.files, `${root}.files`).map((fv, i): FileSpec => {
    const fp = `${root}.files[${i}]`;
    const f = obj(fv, fp);
    onlyKeys(f, fp, ['path', 'sizeBytes', 'prealloc', 'links']);
    const sizeBytes = int(f.sizeBytes ?? 0, `${fp}.sizeBytes`, 0, MAX_FILE_BYTES);
    const prealloc = f.prealloc === undefined ? 'none' : oneOf(f.prealloc, `${fp}.prealloc`, ['none', 'unwritten', 'written', 'inline'] as const);
    // Inline data must fit one block at offset 0 (iomap's inline buffer is one page, §2.3) and not be
    // empty (the kernel's FUSE_READ of it would return 0 bytes, which it treats as EIO).
    if (prealloc === 'inline') int(f.sizeBytes, `${fp}.sizeBytes`, 1, BLOCK_BYTES);
    const links = f.links === undefined ? [] : arr(f.links, `${fp}.links`).map((l, j) => absPath(l, `${fp}.links[${j}]`));
    return { path: absPath(f.path, `${fp}.path`), sizeBytes, prealloc, links };
  });
  if (files.length === 0) fail(`${root}.files`, 'at least one file is needed');

  // Every name must be unique and no file path may be a directory of another.
  const filePaths = new Map<string, number>();
  files.forEach((f, i) => {
    for (const p of [f.path, ...f.links]) {
      if (filePaths.has(p)) fail(`${root}.files[${i}]`, `path ${p} is used twice`);
      filePaths.set(p, i);
    }
  });
  for (const p of filePaths.keys()) {
    const parts = p.split('/');
    for (let k = 2; k < parts.length; k++) {
      const dir = parts.slice(0, k).join('/');
      if (filePaths.has(dir)) fail(`${root}.files`, `${dir} is a file but ${p} uses it as a directory`);
    }
  }

  const threads = arr(o.threads, `${root}.threads`).map((tv, i): ThreadSpec => {
    const tp = `${root}.threads[${i}]`;
    const t = obj(tv, tp);
    onlyKeys(t, tp, ['name', 'path', 'ops', 'opCount', 'thinkNs']);
    const tname = str(t.name ?? `thread${i}`, `${tp}.name`);
    if (!/^[A-Za-z0-9_.:+-]{1,15}$/.test(tname)) fail(`${tp}.name`, `expected a comm of 1-15 chars [A-Za-z0-9_.:+-], got ${JSON.stringify(tname)}`);
    const path = absPath(t.path, `${tp}.path`);
    const fileIdx = filePaths.get(path);
    if (fileIdx === undefined) fail(`${tp}.path`, `${path} is not one of the files or links`);
    const file = files[fileIdx]!;
    const ops = arr(t.ops, `${tp}.ops`).map((ov, j): OpSpec => {
      const op_ = `${tp}.ops[${j}]`;
      const x = obj(ov, op_);
      onlyKeys(x, op_, ['kind', 'direct', 'pattern', 'lenBytes', 'weight', 'spanBytes', 'toPath', 'atomic']);
      const kind = oneOf(x.kind, `${op_}.kind`, OP_KINDS);
      if (x.direct !== undefined && typeof x.direct !== 'boolean') fail(`${op_}.direct`, `expected a boolean, got ${JSON.stringify(x.direct)}`);
      const direct = x.direct === true;
      if (direct && kind !== 'read' && kind !== 'write') fail(`${op_}.direct`, `only read and write ops can be direct`);
      const pattern = x.pattern === undefined ? 'sequential' : oneOf(x.pattern, `${op_}.pattern`, ['sequential', 'random'] as const);
      const lenBytes = x.lenBytes === undefined && kind !== 'read' && kind !== 'write' ? BLOCK_BYTES : int(x.lenBytes, `${op_}.lenBytes`, 1, 64 * MiB);
      // Direct IO in the sim must be block aligned: unaligned DIO (FORCE_WAIT, sub-block zeroing) is not modelled.
      if (direct && lenBytes % BLOCK_BYTES !== 0) fail(`${op_}.lenBytes`, `direct IO needs a multiple of ${BLOCK_BYTES}, got ${lenBytes}`);
      // Range ops work on whole blocks (fallocate/punch/copy/truncate offsets are drawn in lenBytes steps).
      if ((kind === 'fallocate' || kind === 'punch' || kind === 'copy' || kind === 'truncate') && lenBytes % BLOCK_BYTES !== 0) {
        fail(`${op_}.lenBytes`, `${kind} needs a multiple of ${BLOCK_BYTES}, got ${lenBytes}`);
      }
      const weight = x.weight === undefined ? 1 : int(x.weight, `${op_}.weight`, 1, 1_000_000);
      const spanDefault = file.sizeBytes > 0 ? file.sizeBytes : 64 * MiB;
      const spanBytes = x.spanBytes === undefined ? spanDefault : int(x.spanBytes, `${op_}.spanBytes`, 1, MAX_FILE_BYTES);
      if (spanBytes < lenBytes) fail(`${op_}.spanBytes`, `span ${spanBytes} is smaller than lenBytes ${lenBytes}`);
      if (direct && spanBytes % BLOCK_BYTES !== 0) fail(`${op_}.spanBytes`, `direct IO needs a multiple of ${BLOCK_BYTES}, got ${spanBytes}`);
      if (kind === 'copy') {
        const toPath = absPath(x.toPath, `${op_}.toPath`);
        if (!filePaths.has(toPath)) fail(`${op_}.toPath`, `${toPath} is not one of the files or links`);
        return { kind, direct, pattern, lenBytes, weight, spanBytes, toPath };
      }
      if (kind === 'link') {
        const toPath = absPath(x.toPath, `${op_}.toPath`);
        if (filePaths.has(toPath)) fail(`${op_}.toPath`, `${toPath} already exists: a link needs a new name`);
        return { kind, direct, pattern, lenBytes, weight, spanBytes, toPath };
      }
      if (x.toPath !== undefined) fail(`${op_}.toPath`, 'only copy and link ops have a destination');
      // Inline files: the inline buffer is the file's first block; buffered IO only (the sim does not model inline DIO).
      if (file.prealloc === 'inline') {
        if (kind !== 'read' && kind !== 'write') fail(`${op_}.kind`, `${path} is inline: only read and write ops`);
        if (direct) fail(`${op_}.direct`, `${path} is inline: buffered IO only`);
        if (spanBytes > BLOCK_BYTES) fail(`${op_}.spanBytes`, `${path} is inline: offsets must stay in its first ${BLOCK_BYTES} bytes, got span ${spanBytes}`);
      }
      // RWF_ATOMIC: the kernel takes it only for direct writes of exactly one fs block (§2.4).
      if (bool(x.atomic, `${op_}.atomic`, false)) {
        if (kind !== 'write' || !direct) fail(`${op_}.atomic`, 'only direct writes can be atomic (RWF_ATOMIC)');
        if (lenBytes !== BLOCK_BYTES) fail(`${op_}.lenBytes`, `an atomic write is exactly one block (${BLOCK_BYTES}), got ${lenBytes}`);
        return { kind, direct, pattern, lenBytes, weight, spanBytes, atomic: true };
      }
      return { kind, direct, pattern, lenBytes, weight, spanBytes };
    });
    if (ops.length === 0) fail(`${tp}.ops`, 'at least one op is needed');
    const opCount = t.opCount === undefined ? undefined : int(t.opCount, `${tp}.opCount`, 0);
    const thinkNs = t.thinkNs === undefined ? 20 * US : int(t.thinkNs, `${tp}.thinkNs`, 0, 60e9);
    return opCount === undefined ? { name: tname, path, ops, thinkNs } : { name: tname, path, ops, opCount, thinkNs };
  });
  if (threads.length === 0) fail(`${root}.threads`, 'at least one thread is needed');

  const policy = o.policy === undefined ? 'per-path' : oneOf(o.policy, `${root}.policy`, ['per-path', 'ino'] as const);
  const serverThreads = o.serverThreads === undefined ? 2 : int(o.serverThreads, `${root}.serverThreads`, 1, 64);
  const revision = o.revision === undefined ? 'v7' : oneOf(o.revision, `${root}.revision`, PROTOCOL_REVISIONS);
  const writebackIntervalNs = o.writebackIntervalNs === undefined ? 2_000 * US : int(o.writebackIntervalNs, `${root}.writebackIntervalNs`, 0, 60e9);
  if (writebackIntervalNs > 0 && writebackIntervalNs < 10 * US) fail(`${root}.writebackIntervalNs`, `use 0 (off) or at least 10000 ns, got ${writebackIntervalNs}`);

  const faults: FaultSpec = {};
  if (o.faults !== undefined) {
    const f = obj(o.faults, `${root}.faults`);
    onlyKeys(f, `${root}.faults`, ['badMappingEvery', 'iomapWithoutExclusive']);
    if (f.badMappingEvery !== undefined) faults.badMappingEvery = int(f.badMappingEvery, `${root}.faults.badMappingEvery`, 1);
    if (f.iomapWithoutExclusive !== undefined) faults.iomapWithoutExclusive = bool(f.iomapWithoutExclusive, `${root}.faults.iomapWithoutExclusive`, false);
  }

  const costs: CostModel = { ...DEFAULT_COSTS };
  if (o.costs !== undefined) {
    const c = obj(o.costs, `${root}.costs`);
    const keys = Object.keys(DEFAULT_COSTS) as (keyof CostModel)[];
    onlyKeys(c, `${root}.costs`, keys);
    for (const k of keys) {
      if (c[k] !== undefined) costs[k] = int(c[k], `${root}.costs.${k}`, 0, k === 'jitterPct' ? 90 : 60e9);
    }
  }
  const backend = o.backend === undefined ? 'fuse' : oneOf(o.backend, `${root}.backend`, ['fuse', 'kernel-ext4'] as const);
  const cookieValidation = bool(o.cookieValidation, `${root}.cookieValidation`, true);
  const serverCache = bool(o.serverCache, `${root}.serverCache`, true);
  // §3.1: 0 keeps the default; other values are clamped to 256 B … 2 MiB.
  const cacheRaw = o.cacheMaxBytes === undefined ? 0 : int(o.cacheMaxBytes, `${root}.cacheMaxBytes`, 0, 2 ** 32 - 1);
  const cacheMaxBytes = cacheRaw === 0 ? CACHE_DEFAULT_MAX_BYTES : Math.min(CACHE_MAX_MAX_BYTES, Math.max(256, cacheRaw));
  const serverWrites = o.serverWrites === undefined ? 'in-place' : oneOf(o.serverWrites, `${root}.serverWrites`, ['in-place', 'out-of-place'] as const);
  const atomicWrites = bool(o.atomicWrites, `${root}.atomicWrites`, false);
  return {
    name, description, files, threads, policy, serverThreads, revision, writebackIntervalNs, faults, costs,
    backend, cookieValidation, serverCache, cacheMaxBytes, serverWrites, atomicWrites,
  };
}
