// Entry point: creates the page's one scheduler, AppStore, websocket client and file session, and
// passes them down (no module globals).

import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import { AppStore, COUNTER_PERIOD_MS } from './app/app-store.ts';
import { RafScheduler } from './app/raf-scheduler.ts';
import { WsClient, wsUrlFor } from './app/ws-client.ts';
import { FileSession, type WorkerLike } from './app/file-session.ts';
import { CompareSession } from './app/compare-session.ts';
import { installTestHooks } from './app/test-hooks.ts';
import { applyUrlState, syncUrl } from './app/url-sync.ts';
import './app/app.css';

const scheduler = new RafScheduler();
const store = new AppStore(scheduler);
scheduler.addBeforeFrame(() => store.replay.tick());
scheduler.addBeforeFrame(() => store.view.followNow());
const client = new WsClient(store, wsUrlFor(location));
const makeWorker = (): WorkerLike => new Worker(new URL('./app/import-worker.ts', import.meta.url), { type: 'module' }) as unknown as WorkerLike;
const session = new FileSession(store, client, makeWorker, location.search);
const compare = new CompareSession(store, client, makeWorker, location.search);
installTestHooks(window, store, scheduler, client, session, compare);
// `npm run bench` opens the page with ?bench; other pages never load the bench's hooks.
if (new URLSearchParams(location.search).has('bench')) void import('./app/bench-hooks.ts').then((m) => m.installBenchHooks(window, store));
const startsWithFile = applyUrlState(location.hash, store, client, session, compare, location.search);
setInterval(() => {
  store.tickCounters();
  compare.tickCounters();
  syncUrl(store, compare, window);
}, COUNTER_PERIOD_MS);
if (!startsWithFile) client.start();

const rootEl = document.getElementById('root');
if (!rootEl) throw new Error('index.html has no #root');
createRoot(rootEl).render(<App store={store} client={client} session={session} compare={compare} />);
