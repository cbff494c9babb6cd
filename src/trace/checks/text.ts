// Small text helpers for explanations: times with their unit, lists of ids.

/** `1.234 ms`, `56.7 µs`, `890 ns`, `2.5 s`: three significant digits, unit named. */
export function fmtNs(ns: number): string {
  const a = Math.abs(ns);
  if (a >= 1e9) return `${+(ns / 1e9).toPrecision(3)} s`;
  if (a >= 1e6) return `${+(ns / 1e6).toPrecision(3)} ms`;
  if (a >= 1e3) return `${+(ns / 1e3).toPrecision(3)} µs`;
  return `${ns} ns`;
}

/** `4`, `4 and 5`, `4, 5 and 6`. */
export function listText(items: readonly (string | number)[]): string {
  if (items.length <= 1) return items.map(String).join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Ascending, without repeats, without negatives (a row not seen is -1). */
export function rowSet(rows: readonly number[]): number[] {
  return [...new Set(rows.filter((r) => r >= 0))].sort((a, b) => a - b);
}
