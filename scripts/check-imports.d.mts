/** Import-rule violations under root, as `file:line: imports 'x' — rule` lines (scripts/check-imports.mjs). */
export function checkImports(root: string): string[];
