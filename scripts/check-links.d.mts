/** Broken relative links and root paths in code spans of the repo's Markdown, as `file:line: …` lines (scripts/check-links.mjs). */
export function checkLinks(root: string): string[];
/** GitHub's anchor for a heading's text. */
export function slugOf(heading: string): string;
/** The anchors a Markdown file's headings define. */
export function anchorsOf(text: string): Set<string>;
