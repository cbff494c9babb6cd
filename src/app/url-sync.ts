// Applies the URL's view state at start-up and keeps the URL up to date afterwards
// (history.replaceState: the back button is not flooded by every pan).

import type { AppStore } from './app-store.ts';
import type { WsClient } from './ws-client.ts';
import type { FileSession } from './file-session.ts';
import type { CompareSession } from './compare-session.ts';
import { decodeViewState, encodeViewState, windowEventsFromUrl, type UrlViewState } from './url-state.ts';

export function currentViewState(store: AppStore, compare?: CompareSession): UrlViewState {
  if (compare?.pair) return { compare: compare.recordingNames ?? undefined, theme: store.view.theme };
  return {
    scenario: store.status.sourceKind === 'live' ? store.status.serverState?.scenario : undefined,
    recording: store.status.sourceKind === 'file' && store.status.file?.recordingName ? store.status.file.recordingName : undefined,
    tab: store.view.tab,
    ...(store.followLive ? {} : { startNs: store.viewStartNs, endNs: store.viewEndNs }),
    // The stream's row (evicted rows included): the same event after a restart of the scenario.
    selectedRow: store.selectedRow >= 0 ? store.selectedRow + store.data.evictedEvents : -1,
    query: store.view.query,
    theme: store.view.theme,
    pins: [...store.view.pinnedTasks],
    areaFromNs: store.areaFromNs,
    areaToNs: store.areaToNs,
    windowEvents: store.data.windowEvents,
  };
}

/**
 * Restores the state in `hash`: a recording in it is opened (returns true: the page starts on the
 * file, not the live stream). A live link never restarts, switches or resumes the shared session
 * (others may be watching it): the page joins it, gets the run's history, and selects the linked
 * row (a stream row) once it arrives — if the session streams the link's scenario; otherwise it
 * says so and leaves switching to a user who drives the session. `search` (the query string) may
 * set the live window (`?window=N`) when the hash does not.
 */
export function applyUrlState(hash: string, store: AppStore, _client: WsClient, session: FileSession, compare?: CompareSession, search = ''): boolean {
  const s = decodeViewState(hash);
  if (s.theme) store.view.setTheme(s.theme);
  const windowEvents = windowEventsFromUrl(search, hash);
  if (windowEvents !== undefined) store.setWindowEvents(windowEvents);
  if (s.compare && compare) {
    compare.open({ name: s.compare[0] }, { name: s.compare[1] });
    return true;
  }
  if (s.tab) store.view.setTab(s.tab);
  if (s.recording) {
    // A file shown resets the view state of the trace before it (area, selection, filter, pins):
    // the link's apply to the recording once it is in.
    void session.openRecording(s.recording);
    restoreWhenLoaded(store, () => {
      if (s.query) store.view.setQuery(s.query);
      if (s.pins) store.view.setPins(s.pins);
      if (s.areaFromNs !== undefined && s.areaToNs !== undefined) store.setArea(s.areaFromNs, s.areaToNs);
      if (s.tab) store.view.setTab(s.tab);
      if (s.startNs !== undefined && s.endNs !== undefined) store.setRange(s.startNs, s.endNs, true);
      if (s.selectedRow !== undefined) store.selectRow(s.selectedRow);
    });
    return true;
  }
  if (s.query) store.view.setQuery(s.query);
  if (s.startNs !== undefined && s.endNs !== undefined) store.setRange(s.startNs, s.endNs, true);
  if (s.pins) store.view.setPins(s.pins);
  if (s.areaFromNs !== undefined && s.areaToNs !== undefined) store.setArea(s.areaFromNs, s.areaToNs);
  if (s.tab) store.view.setTab(s.tab);
  if (!s.scenario) {
    if (s.selectedRow !== undefined) store.selectRow(s.selectedRow);
    return false;
  }
  // Once the hello is in (the trace was reset and its row base set), select the linked row of the
  // history that follows — rows are the stream's, the same in every viewer of this run.
  const unsubscribe = store.subscribe(() => {
    const state = store.status.serverState;
    if (store.status.connection !== 'open' || !state) return;
    unsubscribe();
    store.status.setLinkedScenario(s.scenario!);
    if (state.scenario !== s.scenario) return; // LiveNotes says so
    const row = (s.selectedRow ?? -1) - store.data.evictedEvents;
    if (row >= 0) store.selectRow(row);
  });
  return false;
}

/** Runs `apply` once the file being opened is shown (nothing if it is not: the link's state was for it). */
function restoreWhenLoaded(store: AppStore, apply: () => void): void {
  const unsubscribe = store.subscribe(() => {
    if (store.status.sourceKind === 'file' && store.status.importStatus.phase === 'done') {
      unsubscribe();
      apply();
    } else if (store.loading === null && store.status.importProblem !== null) unsubscribe();
  });
}

/** Writes the state into the URL if it changed (call periodically). */
export function syncUrl(store: AppStore, compare: CompareSession | undefined, win: Window): void {
  const hash = encodeViewState(currentViewState(store, compare));
  if (win.location.hash.replace(/^#/, '') === hash) return;
  win.history.replaceState(null, '', `${win.location.pathname}${win.location.search}#${hash}`);
}
