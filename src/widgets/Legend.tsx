import { markCss, type Mark } from '../render/palette.ts';

export interface LegendItem {
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

/** Colour swatches with labels, in titled groups. */
export function Legend({ groups }: { groups: readonly LegendGroup[] }) {
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
                  ? { background: `repeating-linear-gradient(135deg, ${it.colour} 0 1.5px, #e6e6e6 1.5px 5px)` }
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
