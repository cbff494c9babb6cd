// The path → nodeid → inode graph: small (≤ MAX_GRAPH_NODES), so SVG; d3 gives the columns'
// x positions (scalePoint) and the edge curves (linkHorizontal). Alias groups are drawn in the
// alias colour; hovering a node highlights its inode in every view (when its number is known); a
// click selects the event that first named it. An inode without evidence of its number reads
// "ino unknown"; one whose evidence disagrees is marked ⚠ (title says which numbers).

import { scalePoint } from 'd3-scale';
import { linkHorizontal } from 'd3-shape';
import type { ViewHost } from '../host.ts';
import type { AliasGraph as Graph, GraphNode } from './model.ts';
import { UNKNOWN_INO, type Ino } from '../../trace/ids.ts';

/** Vertical room per node: fits an 11 px label and a 3 px gap. */
const SLOT_PX = 20;
const COLUMN_TITLES = ['path', 'nodeid (fuse_inode)', 'on-disk inode'];

/** A node box is this wide on each side of its centre; a label longer than LABEL_MAX_CHARS is cut (its title is whole). */
const NODE_HALF_WIDTH_PX = 55;
const LABEL_MAX_CHARS = 18;

export function AliasGraph({ host, graph, widthPx, hoverIno }: { host: ViewHost; graph: Graph; widthPx: number; hoverIno: Ino }) {
  const rows = Math.max(1, ...graph.columnSizes);
  const heightPx = 24 + rows * SLOT_PX;
  const x = scalePoint<number>().domain([0, 1, 2]).range([NODE_HALF_WIDTH_PX + 15, widthPx - NODE_HALF_WIDTH_PX - 15]);
  // One SLOT_PX per node, each column centred on the tallest: boxes never overlap, whatever the
  // column sizes (a scalePoint over a short range squeezed two nodeids into one box's height).
  const yOf = (n: GraphNode): number => {
    const size = graph.columnSizes[n.column] ?? 1;
    return 24 + (rows * SLOT_PX) / 2 + (n.slot - (size - 1) / 2) * SLOT_PX;
  };
  const pos = new Map(graph.nodes.map((n) => [n.id, { x: x(n.column)!, y: yOf(n), n }]));
  const link = linkHorizontal<{ source: [number, number]; target: [number, number] }, [number, number]>();
  return (
    <svg className="alias-graph" data-testid="alias-graph" width={widthPx} height={heightPx}>
      {COLUMN_TITLES.map((t, i) => (
        <text key={t} x={x(i)} y={12} textAnchor="middle" className="col-title">{t}</text>
      ))}
      {graph.edges.map((e) => {
        const a = pos.get(e.from);
        const b = pos.get(e.to);
        if (!a || !b) return null;
        const hot = hoverIno !== 0 && a.n.ino === hoverIno;
        return <path key={`${e.from}>${e.to}`} d={link({ source: [a.x + NODE_HALF_WIDTH_PX, a.y], target: [b.x - NODE_HALF_WIDTH_PX, b.y] }) ?? ''}
          className={`edge${e.aliased ? ' aliased' : ''}${hot ? ' hot' : ''}`} />;
      })}
      {graph.nodes.map((n) => {
        const p = pos.get(n.id)!;
        const hot = hoverIno !== 0 && n.ino === hoverIno;
        return (
          <g key={n.id} transform={`translate(${p.x},${p.y})`} className={`node${n.aliased ? ' aliased' : ''}${n.conflict ? ' conflict' : ''}${hot ? ' hot' : ''}`}
            data-node={n.id} onMouseEnter={() => host.setHoverLink(-1, n.ino)} onMouseLeave={() => host.setHoverLink(-1, UNKNOWN_INO)}
            onClick={() => host.reveal(-1, n.row)}>
            <rect x={-NODE_HALF_WIDTH_PX} y={-8} width={2 * NODE_HALF_WIDTH_PX} height={16} rx={3} />
            <text textAnchor="middle" dy="0.35em">{n.label.length > LABEL_MAX_CHARS ? `${n.label.slice(0, LABEL_MAX_CHARS - 1)}…` : n.label}</text>
            <title>{n.title}</title>
          </g>
        );
      })}
    </svg>
  );
}
