// The layering rules of docs/architecture.md (the table there, src/README.md), checked on every
// `npm test`: a violation prints `file:line: imports 'x' — rule` and fails the run.
//
//   src/trace     imports only src/trace (isomorphic core: no node:, DOM, React, ws, d3)
//   src/render    src/trace, src/render and npm packages
//   src/widgets   src/widgets, src/render and npm packages: generic, no FUSE (nothing from src/trace)
//   src/views/V   src/trace, src/render, src/widgets, its own folder V and the shared src/views/*.ts;
//                 never another view, never src/app
//   src/views/registry.ts  the tab list: the one file that imports every view; no view imports it
//   src/export    src/trace, src/export and npm packages (isomorphic writers: no node:, no DOM)
//   src/app       anything under src (not server/)
//   server        server, src/trace and src/export (never the UI)
//
// Test files (*.test.ts, run in node) are exempt, except that a trace core test imports no UI:
// a test may cross-check two paths (the CLI's and the worker's import, two views' models) or read
// a package's own reader (apache-arrow). Usage: `node scripts/check-imports.mjs [ROOT]` (exit 1 on
// violations).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = /\.(ts|tsx|mts|mjs)$/;
/** The views registry (one entry per tab): it may import every view, and no view may import it. */
const VIEWS_REGISTRY = 'src/views/registry.ts';
// Statements that start a line: import … from 'x' · export … from 'x' · import 'x'; and import('x')
// anywhere. Comments and strings that mention the words do not start a line with them.
const IMPORT = /^[ \t]*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|^[ \t]*import\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** The rule a folder is under, by its path relative to the root ('/'-separated), or null. */
function areaOf(rel) {
  if (rel.startsWith('src/trace/')) return { name: 'src/trace' };
  if (rel.startsWith('src/render/')) return { name: 'src/render' };
  if (rel.startsWith('src/widgets/')) return { name: 'src/widgets' };
  if (rel.startsWith('src/views/')) {
    const rest = rel.slice('src/views/'.length);
    const slash = rest.indexOf('/');
    return { name: 'src/views', view: slash < 0 ? null : rest.slice(0, slash), registry: rel === VIEWS_REGISTRY };
  }
  if (rel.startsWith('src/app/')) return { name: 'src/app' };
  if (rel.startsWith('src/export/')) return { name: 'src/export' };
  if (rel.startsWith('server/')) return { name: 'server' };
  return null;
}

/** Why `target` (a path relative to the root, or a package name when `bare`) may not be imported from `from`, or null. */
function violation(from, target, bare, isTest) {
  if (isTest) {
    const ui = !bare && target.startsWith('src/') && !target.startsWith('src/trace/');
    return from.name === 'src/trace' && ui ? 'a trace core test imports no UI code' : null;
  }
  if (bare) {
    if (from.name === 'src/trace') return 'the trace core imports only itself (no node:, DOM, React, ws or other packages)';
    if (from.name !== 'server' && target.startsWith('node:')) return 'UI code runs in the browser: no node: imports';
    return null;
  }
  const to = areaOf(target);
  const toUi = target.startsWith('src/') && !target.startsWith('src/trace/') && !target.startsWith('src/export/');
  switch (from.name) {
    case 'src/trace':
      return to?.name === 'src/trace' ? null : 'the trace core imports only src/trace';
    case 'src/render':
      return to === null || to.name === 'src/trace' || to.name === 'src/render' ? null : 'src/render imports only src/trace and src/render';
    case 'src/widgets':
      return to === null || to.name === 'src/widgets' || to.name === 'src/render' ? null : 'widgets are generic: they import only src/widgets and src/render (no FUSE, no views)';
    case 'src/views':
      if (to === null || to.name === 'src/trace' || to.name === 'src/render' || to.name === 'src/widgets') return null;
      if (to.name === 'src/views' && from.registry) return null;
      if (to.name === 'src/views' && to.registry) return 'views never import the views registry (it imports every view)';
      if (to.name === 'src/views' && (to.view === null || to.view === from.view)) return null;
      if (to.name === 'src/views') return `views never import views (${from.view ?? 'src/views'} → ${to.view}): link through the shared selection and time range`;
      return 'views import src/trace, src/render, src/widgets and their own folder, never src/app';
    case 'src/export':
      return to?.name === 'src/trace' || to?.name === 'src/export' ? null : 'src/export imports only src/trace and src/export (and npm packages)';
    case 'src/app':
      return target.startsWith('server/') ? 'the UI never imports server code' : null;
    case 'server':
      return toUi ? 'server code never imports the UI (only src/trace and src/export)' : null;
    default:
      return null;
  }
}

function* sourceFiles(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) yield path;
  }
}

/** Every import that breaks a rule under `root` (its src/ and server/ folders), as `file:line: …` lines. */
export function checkImports(root) {
  const out = [];
  for (const top of ['src', 'server']) {
    let files;
    try {
      files = [...sourceFiles(join(root, top))];
    } catch {
      continue;
    }
    for (const file of files) {
      const rel = relative(root, file).split(sep).join('/');
      const from = areaOf(rel);
      if (from === null) continue;
      const isTest = /\.test\.tsx?$/.test(rel);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[1] ?? m[2] ?? m[3];
        const bare = !spec.startsWith('.') && !spec.startsWith('/');
        const target = bare ? spec : relative(root, resolve(dirname(file), spec)).split(sep).join('/');
        const why = violation(from, target, bare, isTest);
        if (why !== null) {
          const line = text.slice(0, m.index + m[0].length).split('\n').length;
          out.push(`${rel}:${line}: imports '${spec}' — ${why}`);
        }
      }
    }
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const found = checkImports(root);
  for (const v of found) console.error(v);
  console.log(found.length === 0 ? 'import rules: ok' : `import rules: ${found.length} violation(s)`);
  process.exit(found.length === 0 ? 0 : 1);
}
