// The page: its usual mode (MainPage: the live stream or an opened file) or A/B compare
// (ComparePage), and the theme, which both share. "Back" in compare returns to MainPage, whose
// store was left as it was.

import { useEffect } from 'react';
import type { AppStore } from './app-store.ts';
import type { WsClient } from './ws-client.ts';
import type { FileSession } from './file-session.ts';
import type { CompareSession } from './compare-session.ts';
import { MainPage } from './MainPage.tsx';
import { ComparePage } from './ComparePage.tsx';
import { useStoreValue } from '../widgets/use-store.ts';

export function App({ store, client, session, compare }: { store: AppStore; client: WsClient; session: FileSession; compare: CompareSession }) {
  const theme = useStoreValue(store, (s) => s.view.theme);
  const pair = useStoreValue(compare, (c) => c.pair);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    // Canvases read their host's theme each frame (render/palette.ts paletteFor; nothing global is
    // rewritten): the compare sides are hosts too, so they follow the page's theme.
    pair?.a.view.setTheme(theme);
    pair?.b.view.setTheme(theme);
    store.scheduler.markDirty();
  }, [store, theme, pair]);
  return pair
    ? <ComparePage store={store} compare={compare} pair={pair} />
    : <MainPage store={store} client={client} session={session} compare={compare} />;
}
