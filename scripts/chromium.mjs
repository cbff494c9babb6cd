// Finds Debian's Chromium for the browser tests, installing it with apt-get when missing and
// possible (root + apt-get). Never downloads a browser build of its own.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function findChromium() {
  if (process.env.FUSESCOPE_CHROMIUM && existsSync(process.env.FUSESCOPE_CHROMIUM)) return process.env.FUSESCOPE_CHROMIUM;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export function ensureChromium() {
  const found = findChromium();
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) {
    throw new Error(
      'Chromium is missing. Install Debian\'s package as root: apt-get update && apt-get install -y chromium ' +
        '(or set FUSESCOPE_CHROMIUM to a Chromium binary).',
    );
  }
  process.stderr.write('fusescope tests: installing Debian chromium (apt-get install -y chromium)…\n');
  execFileSync('apt-get', ['update'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const installed = findChromium();
  if (!installed) throw new Error('apt-get installed chromium but no binary was found in ' + CANDIDATES.join(', '));
  return installed;
}

/** Launch flags for Chromium as root in a headless, offline sandbox (flags known to work on Debian Chromium as root). */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
];
