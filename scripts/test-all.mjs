// `npm test`: the guards (both type checks, the import rules, the domain citations), unit tests
// (vitest), a short seeded fuzz run, a production build of the UI, then the browser end-to-end tests (Playwright + Debian
// Chromium). Ends with one line `N passed, N failed` over all of them (each guard counts as one).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { ensureChromium } from './chromium.mjs';
import { ensureSystemTools } from './system-tools.mjs';

const env = { ...process.env, TZ: 'UTC', LC_ALL: 'C' };
const bin = (name) => `node_modules/.bin/${name}`;
const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', env }).status ?? 1;
const readJson = (path) => {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
};

rmSync('test-results', { recursive: true, force: true });
mkdirSync('test-results', { recursive: true });
let passed = 0;
let failed = 0;
let stepFailed = false;

try {
  ensureChromium();
} catch (err) {
  console.error(`\nfusescope tests: ${err.message}`);
  process.exit(1);
}
// The real-system tests' Debian packages (fuse2fs, trace-cmd, libfuse 3 headers…): what cannot be
// installed is reported, and those tests skip saying why.
ensureSystemTools();

// Guards first: both type checks (the trace core's config has no DOM and no node types, so a
// stray import fails there), the import rules (check-imports.mjs) and the stand-alone docs rule
// (check-citations.mjs: no reference outside the repo, every §n is a docs/domain.md heading; check-links.mjs:
// every relative Markdown link and root path in a code span names a file in the repo). A failure counts once each.
for (const [what, cmd, args] of [
  ['type check (tsconfig.json)', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']],
  ['type check (src/trace/tsconfig.json)', bin('tsc'), ['--noEmit', '-p', 'src/trace/tsconfig.json']],
  ['import rules', process.execPath, ['scripts/check-imports.mjs']],
  ['domain citations', process.execPath, ['scripts/check-citations.mjs']],
  ['doc links', process.execPath, ['scripts/check-links.mjs']],
  // A short seeded fuzz run over every parser (scripts/fuzz.ts; `npm run fuzz` for a long one).
  ['fuzz (seed 1, 8 s)', process.execPath, ['--import', 'tsx', 'scripts/fuzz.ts', '--seconds', '8', '--seed', '1']],
]) {
  if (run(cmd, args) === 0) passed++;
  else {
    console.error(`fusescope tests: ${what} failed`);
    failed++;
  }
}

const unitStatus = run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/unit.json']);
const unit = readJson('test-results/unit.json');
if (unit) {
  passed += unit.numPassedTests;
  failed += unit.numFailedTests;
}
if (unitStatus !== 0 && (!unit || unit.numFailedTests === 0)) stepFailed = true;

if (run(bin('vite'), ['build', '--logLevel', 'warn']) !== 0) {
  console.error('fusescope tests: UI build failed; skipping browser tests');
  stepFailed = true;
} else {
  const e2eStatus = run(bin('playwright'), ['test']);
  const e2e = readJson('test-results/e2e.json');
  if (e2e?.stats) {
    passed += e2e.stats.expected + e2e.stats.flaky;
    failed += e2e.stats.unexpected;
  }
  if (e2eStatus !== 0 && (!e2e?.stats || e2e.stats.unexpected === 0)) stepFailed = true;
}

if (stepFailed && failed === 0) failed = 1; // a suite that crashed before reporting counts as a failure
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 || stepFailed ? 1 : 0);
