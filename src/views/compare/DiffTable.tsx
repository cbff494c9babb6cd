// The A-vs-B table under the compared timelines: the run figures, then one small table per FUSE
// opcode (request count and upcall latency percentiles), flowing side by side. Cells are the
// DiffRows of src/trace/compare.ts (what `fusescope diff --json` prints); each row carries its raw
// numbers in data-* attributes.

import { unknownNotes, type DiffRow } from '../../trace/compare.ts';
import { diffCells, type DiffCell } from './diff-table.ts';

const TONE_TITLE = { better: 'B is better', worse: 'B is worse', same: 'about the same (±10%)', none: '' } as const;

export function DiffTable({ rows, labelA, labelB }: { rows: readonly DiffRow[]; labelA: string; labelB: string }) {
  const { run, opcodes } = diffCells(rows);
  const byOpcode = new Map<string, DiffCell[]>();
  for (const c of opcodes) {
    let list = byOpcode.get(c.opcode);
    if (!list) byOpcode.set(c.opcode, (list = []));
    list.push(c);
  }
  // Why figures are unknown, above the tables (a note among them would take a table's place in the row).
  const notes = unknownNotes(rows, 'A', 'B');
  return (
    <>
      {notes.map((n) => <p key={n} className="empty-note" data-testid="diff-unknown">{n}</p>)}
      <div className="diff-tables" data-testid="diff-table">
        <Table caption="Run" cells={run} labelA={labelA} labelB={labelB} />
        {[...byOpcode].map(([op, cells]) => (
          <Table key={op} caption={<span className="opcode" title="requests sent, and upcall latency fuse_send → fuse_reply">{op}</span>}
            cells={cells} labelA={labelA} labelB={labelB} />
        ))}
        {byOpcode.size === 0 && <p className="empty-note">no FUSE requests on either side</p>}
      </div>
    </>
  );
}

function Table({ caption, cells, labelA, labelB }: { caption: React.ReactNode; cells: DiffCell[]; labelA: string; labelB: string }) {
  return (
    <table className="data diff">
      <caption>{caption}</caption>
      <thead>
        <tr><th>metric</th><th>unit</th><th title={labelA}>A</th><th title={labelB}>B</th><th>B/A</th></tr>
      </thead>
      <tbody>
        {cells.map((c) => (
          <tr key={c.row.metric} data-testid="diff-row" data-metric={c.row.metric} data-a={String(c.row.a)} data-b={String(c.row.b)} data-ratio={String(c.row.ratio)}>
            <th>{c.label}</th>
            <td className="unit muted">{c.row.unit}</td>
            <td className="num" title={c.row.unknown?.a}>{c.aText}</td>
            <td className="num" title={c.row.unknown?.b}>{c.bText}</td>
            <td className={`num ratio tone-${c.tone}`} title={TONE_TITLE[c.tone]}>{c.ratioText}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
