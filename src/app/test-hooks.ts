// window.__fusescope: the hooks the Playwright e2e test drives (e2e/). Reads only; the test acts
// through the real UI (clicks, keys). `idle()` follows style.md §6 "Screenshots".

import { SPAN_KIND_NAMES, type SpanKindName } from '../trace/spans.ts';
import type { AppStore } from './app-store.ts';
import type { RafScheduler } from './raf-scheduler.ts';
import type { WsClient } from './ws-client.ts';

/** Nothing changed for this long → idle. */
export const IDLE_QUIET_MS = 100;

export interface FusescopeStats {
  events: number; spans: number; lanes: number; drawnLanes: number; drawnPrimitives: number;
  frames: number; paused: boolean; followLive: boolean; viewStartNs: number; viewEndNs: number;
  missedEvents: number; connected: boolean;
}

export interface FusescopeHooks {
  stats(): FusescopeStats;
  idle(): boolean;
  findSpan(kind?: SpanKindName): { xPx: number; yPx: number; spanId: number } | null;
  selection(): { spanId: number; beginRow: number; kind: string } | null;
}

declare global {
  interface Window { __fusescope?: FusescopeHooks; __fusescopeIdle?: () => boolean }
}

export function installTestHooks(win: Window, store: AppStore, scheduler: RafScheduler, client: WsClient): () => void {
  const hooks: FusescopeHooks = {
    stats: () => ({
      events: store.trace.length,
      spans: store.spans.count,
      lanes: store.spans.lanes.length,
      drawnLanes: store.drawnLanes,
      drawnPrimitives: store.drawnPrimitives,
      frames: scheduler.frames,
      paused: store.serverState?.paused ?? false,
      followLive: store.followLive,
      viewStartNs: store.viewStartNs,
      viewEndNs: store.viewEndNs,
      missedEvents: store.missedEvents,
      connected: store.connection === 'open',
    }),
    idle: () => {
      const quietSinceMs = Math.max(store.lastChangeMs, scheduler.lastActivityMs);
      return !scheduler.isFramePending && client.pendingFrames === 0 && performance.now() - quietSinceMs >= IDLE_QUIET_MS;
    },
    findSpan: (kind) => {
      if (kind !== undefined && !SPAN_KIND_NAMES.includes(kind)) throw new Error(`findSpan: unknown kind ${kind}`);
      return store.probe?.findSpan(kind) ?? null;
    },
    selection: () => {
      const id = store.selectedSpanId;
      if (id < 0 || id >= store.spans.count) return null;
      return { spanId: id, beginRow: store.spans.beginRow.data[id]!, kind: SPAN_KIND_NAMES[store.spans.kind.data[id]!]! };
    },
  };
  win.__fusescope = hooks;
  win.__fusescopeIdle = hooks.idle;
  return () => {
    delete win.__fusescope;
    delete win.__fusescopeIdle;
  };
}
