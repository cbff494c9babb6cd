// The tabs under the timeline, one entry each: its id (the URL's `tab=`, the e2e `tab-<id>` test
// id), its title and how it is drawn. MainPage draws the tab bar and the open tab from this list and
// url-state.ts accepts exactly these ids, so a new tab is one entry here. The one file in src/views
// that imports views (scripts/check-imports.mjs allows exactly it); views still never import views.

import { createElement, type ReactNode } from 'react';
import type { TraceSource, ViewHost } from './host.ts';
import type { ParsedQuery } from '../trace/derive/search.ts';
import type { ScenarioInfo } from '../trace/wire.ts';
import { LocksView } from './locks/LocksView.tsx';
import { AliasesView } from './aliases/AliasesView.tsx';
import { CacheView } from './cache/CacheView.tsx';
import { AreaTable } from './timeline/AreaTable.tsx';
import { AccountingView } from './accounting/AccountingView.tsx';

/** What the page gives an open tab. */
interface TabContext {
  host: ViewHost;
  /** The search box's query, parsed: a tab may filter by it (ino:, task:). */
  query: ParsedQuery;
  /** The live scenario's name ('' for a file). */
  scenario: string;
  /** What the trace shown is: the live scenario or the opened file (names it in empty states). */
  source: TraceSource;
  /** The live scenario's entry in the server's list (its facts: cache off, cookie validation), null for a file or an unlisted run. */
  scenarioInfo: ScenarioInfo | null;
}

interface ViewTabEntry {
  readonly id: string;
  readonly title: string;
  render(ctx: TabContext): ReactNode;
}

export const VIEW_REGISTRY = [
  {
    id: 'locks',
    title: 'i_rwsem contention',
    render: ({ host, query }) => createElement(LocksView, { host, filter: { ino: query.ino ?? 0, task: query.task ?? '' } }),
  },
  { id: 'aliases', title: 'nodeid → inode aliasing', render: ({ host, query }) => createElement(AliasesView, { host, inoFilter: query.ino ?? 0 }) },
  { id: 'cache', title: 'Mapping cache', render: ({ host, scenario, scenarioInfo, source }) => createElement(CacheView, { host, scenario, scenarioInfo, source }) },
  { id: 'area', title: 'Area selection', render: ({ host }) => createElement(AreaTable, { host }) },
  { id: 'accounting', title: 'Run accounting', render: ({ host, scenarioInfo }) => createElement(AccountingView, { host, scenarioInfo }) },
] as const satisfies readonly ViewTabEntry[];

export type ViewTab = (typeof VIEW_REGISTRY)[number]['id'];

/** The entry of a tab id. */
export function viewTabEntry(id: ViewTab): ViewTabEntry {
  return VIEW_REGISTRY.find((e) => e.id === id)!;
}

export function isViewTab(id: string): id is ViewTab {
  return VIEW_REGISTRY.some((e) => e.id === id);
}
