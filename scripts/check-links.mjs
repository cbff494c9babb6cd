// Every relative link in the repo's Markdown (README.md, docs/, and every folder's README.md) must
// point at a file or folder that is in the repo, and a `#anchor` at a heading of that file. Checked
// on every `npm test`: a broken link prints as `file:line: …` and fails the run.
//   [text](path), [text](path#anchor), [text](#anchor), ![alt](image.png), <a href="path">
// Links with a scheme (http:, https:, mailto:) are not checked (no network here); fenced code
// blocks are skipped (they show commands, not links). A code span that is a path from the repo's
// root (`docs/x.md`, `src/trace/store.ts`: it starts with a top-level folder and has no
// placeholder such as `*`, `{`, `N`) must name a file or folder that exists too.
// Usage: `node scripts/check-links.mjs [ROOT]` (exit 1 on broken links).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIP_DIRS = new Set(['node_modules', 'dist', 'test-results', 'playwright-report']);
// ](target) with an optional "title"; <a href="target">.
const MD_LINK = /\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const HREF = /\bhref="([^"]+)"/g;
// `src/…`, `docs/…`: a path from the root, in a code span, ending in a name (a folder ends in /).
const ROOT_PATH = /`((?:src|server|docs|scripts|e2e|bench|fixtures|bin|public)\/[A-Za-z0-9_.\/-]*)`/g;

function* markdownFiles(dir) {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name) || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* markdownFiles(path);
    else if (name.endsWith('.md')) yield path;
  }
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function slugOf(heading) {
  return heading.trim().toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a Markdown file defines (its headings, duplicates numbered as GitHub does). */
export function anchorsOf(text) {
  const out = new Set();
  const seen = new Map();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slugOf(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every broken relative link under `root`, as `file:line: …` lines. */
export function checkLinks(root) {
  const out = [];
  const anchorCache = new Map();
  const anchors = (abs) => {
    if (!anchorCache.has(abs)) anchorCache.set(abs, anchorsOf(readFileSync(abs, 'utf8')));
    return anchorCache.get(abs);
  };
  for (const file of markdownFiles(root)) {
    const rel = relative(root, file).split(sep).join('/');
    const lines = readFileSync(file, 'utf8').split('\n');
    let fenced = false;
    lines.forEach((raw, i) => {
      if (/^\s*(```|~~~)/.test(raw)) {
        fenced = !fenced;
        return;
      }
      if (fenced) return;
      for (const m of raw.matchAll(ROOT_PATH)) {
        if (!existsSync(join(root, m[1]))) out.push(`${rel}:${i + 1}: names '${m[1]}', which is not in the repo`);
      }
      const line = raw.replace(/`[^`]*`/g, '');
      for (const m of [...line.matchAll(MD_LINK), ...line.matchAll(HREF)]) {
        const target = m[1];
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        const [pathPart, anchor] = target.split('#', 2);
        const abs = pathPart ? resolve(dirname(file), decodeURIComponent(pathPart)) : file;
        const shown = `${rel}:${i + 1}: link '${target}'`;
        if (!abs.startsWith(resolve(root) + sep) && abs !== resolve(root)) {
          out.push(`${shown} points outside the repo`);
          continue;
        }
        if (!existsSync(abs)) {
          out.push(`${shown}: no such file in the repo (${relative(root, abs).split(sep).join('/')})`);
          continue;
        }
        if (anchor && abs.endsWith('.md') && !anchors(abs).has(anchor.toLowerCase())) {
          out.push(`${shown}: ${relative(root, abs).split(sep).join('/')} has no heading #${anchor}`);
        }
      }
    });
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const found = checkLinks(root);
  for (const v of found) console.error(v);
  console.log(found.length === 0 ? 'doc links: ok' : `doc links: ${found.length} broken`);
  process.exit(found.length === 0 ? 0 : 1);
}
