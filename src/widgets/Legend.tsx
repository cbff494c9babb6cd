import { markCss, type Mark } from '../render/palette.ts';

interface LegendItem {
  key: string;
  label: string;
  colour: string;
  hatched?: boolean;
  mark?: Mark;
}
export interface LegendGroup {
  title: string;
  items: readonly LegendItem[];
}

/**
 * Colour swatches with labels, in titled groups. `hatchBackground`: what hatched items' stripes
 * lie on — the theme's, as on the canvases.
 */
export function Legend({ groups, hatchBackground }: { groups: readonly LegendGroup[]; hatchBackground: string }) {
  return (
    <div className="legend" data-testid="legend">
      {groups.map((g) => (
        <div className="legend-group" key={g.title}>
          <span className="legend-title">{g.title}</span>
          {g.items.map((it) => (
            <span className="legend-item" key={it.key}>
              <span
                className="legend-swatch"
                data-mark={it.mark}
                style={it.hatched
                  ? { background: `repeating-linear-gradient(135deg, ${it.colour} 0 1.5px, ${hatchBackground} 1.5px 5px)` }
                  : { backgroundColor: it.colour, ...(it.mark ? markCss(it.mark) : {}) }}
              />
              {it.label}
            </span>
          ))}
        </div>
      ))}
    </div>
  );
}
