// The Debian packages the real-system tests use (a real FUSE mount of Debian's fuse2fs, uprobes on
// libfuse 2 and 3, libfuse's own example servers built at test time, trace-cmd): installed with
// apt-get when missing and possible (root + apt-get), so `npm test` on a fresh machine runs those
// tests instead of skipping them. Where it cannot install, it says what is missing; each test then
// skips loudly, naming the package.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** What a test needs → the Debian package that provides it. */
export const TOOLS = [
  { what: 'fuse2fs (libfuse 2, path API: the aliasing server)', present: () => existsSync('/usr/bin/fuse2fs'), pkg: 'fuse2fs' },
  { what: 'mke2fs (images for fuse2fs)', present: () => onPath('mke2fs'), pkg: 'e2fsprogs' },
  { what: 'fusermount (unmounting a libfuse server)', present: () => onPath('fusermount') || onPath('fusermount3'), pkg: 'fuse3' },
  { what: 'readelf (checks the ELF reader)', present: () => onPath('readelf'), pkg: 'binutils' },
  { what: 'trace-cmd (trace.dat captures, bench P1dr)', present: () => onPath('trace-cmd'), pkg: 'trace-cmd' },
  { what: 'gcc (builds libfuse 3\'s example servers)', present: () => onPath('gcc'), pkg: 'gcc' },
  { what: 'C library headers (gcc without recommends has none)', present: () => existsSync('/usr/include/stdio.h'), pkg: 'libc6-dev' },
  { what: 'pkg-config', present: () => onPath('pkg-config'), pkg: 'pkg-config' },
  { what: 'libfuse 3 headers and examples', present: () => existsSync('/usr/include/fuse3/fuse.h'), pkg: 'libfuse3-dev' },
];

/** Installs the missing packages when it can; returns what is still missing (`[]`: all there). */
export function ensureSystemTools() {
  const missing = TOOLS.filter((t) => !t.present());
  if (missing.length === 0) return [];
  const pkgs = [...new Set(missing.map((t) => t.pkg))];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) {
    process.stderr.write(`fusescope tests: missing ${pkgs.join(', ')} (not root with apt-get: not installed); the tests that need them skip\n`);
    return missing;
  }
  process.stderr.write(`fusescope tests: installing Debian packages ${pkgs.join(' ')} (apt-get install -y)…\n`);
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], {
      stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (err) {
    process.stderr.write(`fusescope tests: apt-get failed (${err.message}); the tests that need ${pkgs.join(', ')} skip\n`);
  }
  const still = TOOLS.filter((t) => !t.present());
  for (const t of still) process.stderr.write(`fusescope tests: still missing ${t.what} (package ${t.pkg})\n`);
  return still;
}
