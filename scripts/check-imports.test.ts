// The layering guard that `npm test` runs (check-imports.mjs): planted violations are found with
// file, line and rule; allowed imports, comments and tests are not; the repository has none.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkImports } from './check-imports.mjs';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'fusescope-imports-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('import rules', () => {
  it('names each planted violation with its file, line, import and rule', () => {
    const root = tree({
      'src/trace/core.ts': "import { x } from './other.ts';\nimport { readFileSync } from 'node:fs';\n",
      'src/trace/other.ts': "// import { y } from '../views/a/m.ts' is only a comment\nexport {\n  z,\n} from '../views/a/m.ts';\n",
      'src/views/a/m.ts': "import { host } from '../host.ts';\nimport {\n  model,\n} from '../b/model.ts';\nimport { T } from '../../trace/core.ts';\n",
      'src/views/b/model.ts': "const lazy = () => import('../../app/app-store.ts');\n",
      'src/widgets/w.tsx': "import React from 'react';\nimport { KINDS } from '../trace/schema.ts';\nimport { PALETTE } from '../render/palette.ts';\n",
      'src/render/r.ts': "import { scaleLinear } from 'd3-scale';\nimport { V } from '../views/a/m.ts';\n",
      'src/app/a.ts': "import { s } from '../../server/s.ts';\n",
      'src/app/a.test.ts': "import { s } from '../../server/s.ts';\n",
      'src/trace/core.test.ts': "import { readFileSync } from 'node:fs';\nimport { App } from '../app/a.ts';\n",
      'server/s.ts': "import { S } from '../src/trace/core.ts';\nimport { M } from '../src/views/a/m.ts';\nimport { W } from '../src/export/w.ts';\n",
      'src/export/w.ts': "import { Schema } from 'apache-arrow';\nimport { T } from '../trace/core.ts';\nimport { readFileSync } from 'node:fs';\nimport { A } from '../app/a.ts';\n",
    });
    expect(checkImports(root).sort()).toEqual([
      "server/s.ts:2: imports '../src/views/a/m.ts' — server code never imports the UI (only src/trace and src/export)",
      "src/app/a.ts:1: imports '../../server/s.ts' — the UI never imports server code",
      "src/export/w.ts:3: imports 'node:fs' — UI code runs in the browser: no node: imports",
      "src/export/w.ts:4: imports '../app/a.ts' — src/export imports only src/trace and src/export (and npm packages)",
      "src/render/r.ts:2: imports '../views/a/m.ts' — src/render imports only src/trace and src/render",
      "src/trace/core.test.ts:2: imports '../app/a.ts' — a trace core test imports no UI code",
      "src/trace/core.ts:2: imports 'node:fs' — the trace core imports only itself (no node:, DOM, React, ws or other packages)",
      "src/trace/other.ts:4: imports '../views/a/m.ts' — the trace core imports only src/trace",
      "src/views/a/m.ts:4: imports '../b/model.ts' — views never import views (a → b): link through the shared selection and time range",
      "src/views/b/model.ts:1: imports '../../app/app-store.ts' — views import src/trace, src/render, src/widgets and their own folder, never src/app",
      "src/widgets/w.tsx:2: imports '../trace/schema.ts' — widgets are generic: they import only src/widgets and src/render (no FUSE, no views)",
    ]);
  });

  it('lets exactly src/views/registry.ts import every view, and no view import it', () => {
    const root = tree({
      'src/views/registry.ts': "import { host } from './host.ts';\nimport { A } from './a/AView.tsx';\nimport { B } from './b/BView.tsx';\n",
      'src/views/other.ts': "import { A } from './a/AView.tsx';\n",
      'src/views/host.ts': 'export {};\n',
      'src/views/a/AView.tsx': "import { host } from '../host.ts';\n",
      'src/views/b/BView.tsx': "import { TABS } from '../registry.ts';\n",
      'src/app/MainPage.tsx': "import { TABS } from '../views/registry.ts';\n",
    });
    expect(checkImports(root).sort()).toEqual([
      "src/views/b/BView.tsx:1: imports '../registry.ts' — views never import the views registry (it imports every view)",
      "src/views/other.ts:1: imports './a/AView.tsx' — views never import views (src/views → a): link through the shared selection and time range",
    ]);
  });

  it('the repository keeps them', () => {
    expect(checkImports(join(dirname(fileURLToPath(import.meta.url)), '..'))).toEqual([]);
  });
});
