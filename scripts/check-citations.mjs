// The repo stands alone: its domain facts live in docs/domain.md, and code and docs cite them as
// "§n" / "§n.m" (a section of that file). Checked on every `npm test`:
//   - no file names a reference outside the repo (the private parent-folder notes or their file name);
//   - every cited §n or §n.m (both ends of a range such as §3.1–3.3) is a heading of docs/domain.md
//     (a § right after another document's name, "views.md §4", cites that document and is skipped).
// A problem prints as `file:line: …`. Usage: `node scripts/check-citations.mjs [ROOT]` (exit 1 on problems).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What is scanned: these folders (recursively) and files, relative to the root. */
const ROOTS = ['src', 'server', 'docs', 'scripts', 'e2e', 'bench', 'README.md'];
const TEXT = /\.(ts|tsx|mts|cts|mjs|cjs|js|jsx|md|json|html|css|txt|sh|yml|yaml)$/;
export const DOMAIN = 'docs/domain.md';
// Written so that this file does not match itself.
const OUTSIDE = [
  [/\.\.\/shared\b/, "points into the parent folder's shared/ (outside the repo)"],
  [/fuse-iomap-domain\.md/, 'names the private fuse-iomap-domain notes; cite docs/domain.md instead'],
  // The other private notes the project started from: their facts belong in the repo's docs.
  [/\b(?:style|real-capture|toolchain)\.md\b/, 'names a private note (style / real-capture / toolchain); state the fact or cite a repo doc'],
];
// §1, §1.5, §3.1–3.3 / §3.1-3.3 (the second number of a range carries no §).
const CITE = /§(\d+(?:\.\d+)?)(?:\s*[–-]\s*(\d+(?:\.\d+)?))?/g;
// A § right after another document's name ("views.md §4", "issue #4 §5") cites that document.
const OTHER_DOC = /(?:([\w.-]+\.md)|issue #\d+)\s*$/;
// "## 3. The kernel mapping cache", "### 3.1 What is cached".
const HEADING = /^#{1,6}\s+(\d+(?:\.\d+)?)\.?\s/;

function* textFiles(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return;
  }
  if (st.isFile()) {
    if (TEXT.test(path)) yield path;
    return;
  }
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name === 'dist' || name === 'test-results' || name.startsWith('.')) continue;
    yield* textFiles(join(path, name));
  }
}

/** The section numbers docs/domain.md has headings for ('0', '1', '1.5', …). */
export function domainSections(text) {
  const out = new Set();
  for (const line of text.split('\n')) {
    const m = HEADING.exec(line);
    if (m) out.add(m[1]);
  }
  return out;
}

/** Every outside reference and dangling citation under `root`, as `file:line: …` lines. */
export function checkCitations(root) {
  let sections;
  try {
    sections = domainSections(readFileSync(join(root, DOMAIN), 'utf8'));
  } catch {
    sections = null;
  }
  const out = [];
  for (const top of ROOTS) {
    for (const file of textFiles(join(root, top))) {
      const rel = relative(root, file).split(sep).join('/');
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const [re, why] of OUTSIDE) if (re.test(line)) out.push(`${rel}:${i + 1}: ${why}`);
        for (const m of line.matchAll(CITE)) {
          const other = OTHER_DOC.exec(line.slice(0, m.index));
          if (other && other[1] !== 'domain.md') continue;
          for (const n of [m[1], m[2]]) {
            if (n === undefined || sections?.has(n)) continue;
            out.push(
              sections === null
                ? `${rel}:${i + 1}: cites §${n} but ${DOMAIN} is missing`
                : `${rel}:${i + 1}: cites §${n}, which is not a heading of ${DOMAIN}`,
            );
          }
        }
      });
    }
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const found = checkCitations(root);
  for (const v of found) console.error(v);
  console.log(found.length === 0 ? 'citations: ok' : `citations: ${found.length} problem(s)`);
  process.exit(found.length === 0 ? 0 : 1);
}
