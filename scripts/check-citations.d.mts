/** Outside references and dangling §n citations under root, as `file:line: …` lines (scripts/check-citations.mjs). */
export function checkCitations(root: string): string[];
/** The section numbers that docs/domain.md has headings for. */
export function domainSections(text: string): Set<string>;
export const DOMAIN: string;
