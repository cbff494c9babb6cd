// The docs-links guard that `npm test` runs (check-links.mjs): planted broken links (a missing file,
// a missing heading, a root path in a code span that is not in the repo) are named with file and
// line; good links, external links and fenced code pass; the repository itself has none.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anchorsOf, checkLinks } from './check-links.mjs';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'fusescope-links-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('doc links guard', () => {
  it('makes anchors as GitHub does: lower case, punctuation and backquotes dropped, duplicates numbered', () => {
    expect([...anchorsOf('# Importing real traces\n## `fusescope export` (CLI)\n## Notes\n## Notes\n```\n# not a heading\n```\n')])
      .toEqual(['importing-real-traces', 'fusescope-export-cli', 'notes', 'notes-1']);
  });

  it('names each broken link with file and line, and passes good ones', () => {
    const root = tree({
      'README.md': [
        'see [import](docs/import.md) and [its formats](docs/import.md#formats)', // ok
        'and [export](docs/export.md)', // line 2: no such file
        '![shot](docs/shot.png) [web](https://example.org/x.md) [here](#set-up)', // line 3: no such picture
        '## Set up',
        'a [bad anchor](docs/import.md#no-such-heading)', // line 5
        '```',
        '[in a code block](nowhere.md)',
        '```',
        'the code `src/gone.ts` and `src/app/` and `docs/NAME.md`', // line 9: src/gone.ts; NAME is not a placeholder rule: reported
      ].join('\n'),
      'docs/import.md': '# Import\n## Formats\nback to [the readme](../README.md)\n',
      'src/app/x.ts': '',
    });
    expect(checkLinks(root)).toEqual([
      "README.md:9: names 'src/gone.ts', which is not in the repo",
      "README.md:9: names 'docs/NAME.md', which is not in the repo",
      "README.md:2: link 'docs/export.md': no such file in the repo (docs/export.md)",
      "README.md:3: link 'docs/shot.png': no such file in the repo (docs/shot.png)",
      "README.md:5: link 'docs/import.md#no-such-heading': docs/import.md has no heading #no-such-heading",
    ].sort((a, b) => Number(a.split(':')[1]) - Number(b.split(':')[1])));
  });

  it('the repository has no broken link', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    expect(checkLinks(root)).toEqual([]);
  });
});
