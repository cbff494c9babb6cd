import { PALETTE } from '../../render/palette.ts';
import { useStoreValue } from '../../widgets/use-store.ts';
import type { ViewHost } from '../host.ts';
import { spanTooltip } from './describe.ts';

/** Follows the pointer; the only component that subscribes to hover (so pointer moves re-render it alone). */
export function Tooltip({ host }: { host: ViewHost }) {
  const spanId = useStoreValue(host, (h) => h.hover.spanId);
  const mergedCount = useStoreValue(host, (h) => h.hover.mergedCount);
  const paletteIdx = useStoreValue(host, (h) => h.hover.paletteIdx);
  const xPx = useStoreValue(host, (h) => h.hover.clientXPx);
  const yPx = useStoreValue(host, (h) => h.hover.clientYPx);
  useStoreValue(host, (h) => h.traceGeneration);
  if (mergedCount === 0) return null;

  let title: string;
  let lines: [string, string][];
  if (mergedCount > 1 || spanId < 0 || spanId >= host.spans.count) {
    title = `${mergedCount} spans merged`;
    lines = [
      ['mostly', PALETTE[paletteIdx]?.label ?? '?'],
      ['why', 'each is narrower than a pixel here'],
      ['see them', 'zoom in (W or wheel)'],
    ];
  } else {
    ({ title, lines } = spanTooltip(host.trace, host.spans, spanId));
  }
  return (
    <div className="tooltip" role="tooltip" style={{ left: xPx + 14, top: yPx + 14 }}>
      <div className="tooltip-title">{title}</div>
      <table>
        <tbody>
          {lines.map(([k, v]) => (
            <tr key={k}><th>{k}</th><td>{v}</td></tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
