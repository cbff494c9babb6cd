// The stand-alone guard that `npm test` runs (check-citations.mjs): a planted mention of the
// private notes and a planted dangling citation are named with file and line; citations of real
// headings (also both ends of a range) pass; the repository has no problem.
// Planted strings are built from pieces so this file does not trip the guard itself.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkCitations, domainSections } from './check-citations.mjs';

const S = '\u00a7';
const SHARED = '..' + '/shared/docs/notes.md';
const PRIVATE = 'fuse-iomap-' + 'domain.md';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'fusescope-cites-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** Built so this file does not name a private note itself. */
const NOTE = 'style' + '.md';
const DOMAIN_MD = '# Domain\n\n## 0. Timeline\n\n## 3. Cache\n\n### 3.1 What\n\n### 3.3 Lookup\n\ntext ' + S + '3.1\n';

describe('citation guard', () => {
  it('reads the section numbers from the headings', () => {
    expect([...domainSections(DOMAIN_MD)].sort()).toEqual(['0', '3', '3.1', '3.3']);
  });

  it('names each outside mention and dangling citation with file and line', () => {
    const root = tree({
      'docs/domain.md': DOMAIN_MD,
      'docs/guide.md': `intro\nsee ${S}3.1 and ${S}0\nsee \`${SHARED}\`\n`,
      'src/trace/a.ts': `// ok ${S}3.1–3.3, ${S}3, views.md ${S}7\n// bad ${S}9.9 here\n`,
      'src/trace/d.ts': `// rule from ${NOTE}\n`,
      'server/b.ts': `// range ${S}3.1-3.2\n`,
      'scripts/c.mjs': `// from ${PRIVATE}\n`,
      'README.md': `one\ntwo ${S}4\n`,
      'fixtures/not-scanned.md': `${S}9.9 ${SHARED}\n`,
    });
    expect(checkCitations(root).sort()).toEqual([
      `README.md:2: cites ${S}4, which is not a heading of docs/domain.md`,
      "docs/guide.md:3: points into the parent folder's shared/ (outside the repo)",
      'scripts/c.mjs:1: names the private fuse-iomap-domain notes; cite docs/domain.md instead',
      `server/b.ts:1: cites ${S}3.2, which is not a heading of docs/domain.md`,
      `src/trace/a.ts:2: cites ${S}9.9, which is not a heading of docs/domain.md`,
      'src/trace/d.ts:1: names a private note (style / real-capture / toolchain); state the fact or cite a repo doc',
    ]);
  });

  it('the repository has none', () => {
    expect(checkCitations(join(dirname(fileURLToPath(import.meta.url)), '..'))).toEqual([]);
  });
});
