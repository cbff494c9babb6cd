// Entry point: creates the page's one scheduler, AppStore and websocket client, and passes them
// down (no module globals).

import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import { AppStore, COUNTER_PERIOD_MS } from './app/app-store.ts';
import { RafScheduler } from './app/raf-scheduler.ts';
import { WsClient, wsUrlFor } from './app/ws-client.ts';
import { installTestHooks } from './app/test-hooks.ts';
import { applyUrlState, syncUrl } from './app/url-sync.ts';
import './app/app.css';

const scheduler = new RafScheduler();
const store = new AppStore(scheduler);
scheduler.addBeforeFrame(() => store.followNow());
const client = new WsClient(store, wsUrlFor(location));
installTestHooks(window, store, scheduler, client);
applyUrlState(location.hash, store, client);
setInterval(() => {
  store.tickCounters();
  syncUrl(store, window);
}, COUNTER_PERIOD_MS);
client.start();

const rootEl = document.getElementById('root');
if (!rootEl) throw new Error('index.html has no #root');
createRoot(rootEl).render(<App store={store} client={client} />);
