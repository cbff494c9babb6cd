// What every browser test does with a fusescope page: open it (collecting console errors), call
// the `window.__fusescope` test hooks, and wait until the page is idle (never a fixed sleep).
import type { Page } from '@playwright/test';
import type { FusescopeHooks } from '../src/app/test-hooks.ts';

/** Runs `fn` on the page's hooks. Passed as source text: tsx-compiled closures reference `__name`. */
export const hooks = <T>(page: Page, fn: (h: FusescopeHooks) => T): Promise<T> =>
  page.evaluate(`(${fn.toString()})(window.__fusescope)`) as Promise<T>;

export const waitIdle = (page: Page): Promise<unknown> => page.waitForFunction(() => window.__fusescope!.idle());

/** Opens `url`; resolves once the test hooks exist. The returned array fills with console errors. */
export async function openPage(page: Page, url: string): Promise<string[]> {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript('globalThis.__name = (f) => f');
  await page.goto(url);
  await page.waitForFunction(() => window.__fusescope !== undefined);
  return errors;
}

/**
 * Where a screenshot that illustrates the docs goes: test-results/ on every run, docs/ only when
 * someone means to refresh the committed pictures (`UPDATE_DOC_SHOTS=1 npm test`).
 */
export function shotPath(name: string): string {
  return process.env.UPDATE_DOC_SHOTS === '1' ? `docs/${name}` : `test-results/${name}`;
}
