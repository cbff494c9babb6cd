// Lanes grouped by process (issue 19): the tgid a trace prints reaches the timeline's groups; a
// recording written before schema 4 (no task_process rows) opens with every process unknown.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { importText } from '../../trace/import/testing.ts';
import { SpanIndex } from '../../trace/spans.ts';
import { taskProcesses } from '../../trace/derive/processes.ts';
import { RecordingReader, memorySource } from '../../trace/recording/index.ts';
import { TraceStore } from '../../trace/store.ts';
import { buildTimelineModel, type LaneGrouping } from './model.ts';
import { LaneGeometry } from './layout.ts';
import { groupHeaderText } from './draw.ts';

// trace_pipe with record-tgid: dd (process 100) asks twice; fuse2fs threads 201 and 202 of process
// 200 answer; a second fuse2fs, process 300 (one thread), answers a third request.
const PIPE = [
  '              dd-100     (    100) [000] ...1.    10.000100: fuse_request_send: connection 38 req 2 opcode 14 (FUSE_OPEN) len 48',
  '         fuse2fs-201     (    200) [001] .....    10.000200: fuse_request_end: connection 38 req 2 len 32 error 0',
  '              dd-100     (    100) [000] ...1.    10.000300: fuse_request_send: connection 38 req 4 opcode 14 (FUSE_OPEN) len 48',
  '         fuse2fs-202     (    200) [001] .....    10.000400: fuse_request_end: connection 38 req 4 len 32 error 0',
  '              dd-100     (    100) [000] ...1.    10.000500: fuse_request_send: connection 39 req 2 opcode 14 (FUSE_OPEN) len 48',
  '         fuse2fs-301     (    300) [001] .....    10.000600: fuse_request_end: connection 39 req 2 len 32 error 0',
  // Each server thread waits on a lock, so it has a span and a lane.
  '         fuse2fs-201     (    200) [001] d..2.    10.000700: contention_begin: ffff88813cd98e98 (flags=WRITE)',
  '         fuse2fs-201     (    200) [001] d..2.    10.000710: contention_end: ffff88813cd98e98 (ret=0)',
  '         fuse2fs-202     (    200) [001] d..2.    10.000720: contention_begin: ffff88813cd98e98 (flags=WRITE)',
  '         fuse2fs-202     (    200) [001] d..2.    10.000730: contention_end: ffff88813cd98e98 (ret=0)',
  '         fuse2fs-301     (    300) [001] d..2.    10.000740: contention_begin: ffff88813cd98e98 (flags=WRITE)',
  '         fuse2fs-301     (    300) [001] d..2.    10.000750: contention_end: ffff88813cd98e98 (ret=0)',
  '',
].join('\n');

function load(text: string): TraceStore {
  const r = importText([{ name: 'pipe.txt', text, format: 'ftrace' }]);
  if (r.store) return r.store;
  const store = new TraceStore();
  store.appendAll(r.events);
  return store;
}

interface Group { key: string; text: string; tasks: string[] }
/** The groups as the timeline lays them out: each header and the lanes under it; a one-lane group has no header. */
function groups(store: TraceStore, grouping: LaneGrouping): Group[] {
  const spans = new SpanIndex();
  spans.update(store);
  const model = buildTimelineModel(spans, store, 0, store.endNs + 1, 1000, [], [], true, grouping);
  const geo = LaneGeometry.build(model.lanes, { collapsed: new Set(), collapsedGroups: new Set(), subrowPx: new Map() });
  const out: Group[] = [];
  model.lanes.forEach((l, row) => {
    const h = geo.headers.find((x) => x.firstRow === row);
    if (out.length === 0 || out.at(-1)!.key !== l.group) out.push({ key: l.group, text: h ? groupHeaderText(model, h, grouping) : '', tasks: [] });
    out.at(-1)!.tasks.push(l.task);
  });
  return out;
}

describe('lanes grouped by process', () => {
  const store = load(PIPE);

  it('the store knows each task\'s process from the (tgid) column', () => {
    expect([...taskProcesses(store).tgidOf]).toEqual([['dd/100', 100], ['fuse2fs/201', 200], ['fuse2fs/202', 200], ['fuse2fs/301', 300]]);
  });

  it('two threads of one process are one group, the other process another: "fuse2fs 200 · 2 threads"', () => {
    expect(groups(store, 'process')).toEqual([
      { key: 'app:pid:100', text: '', tasks: ['dd/100'] },
      { key: 'server:pid:200', text: '▾ fuse2fs 200 · 2 threads', tasks: ['fuse2fs/201', 'fuse2fs/202'] },
      { key: 'server:pid:300', text: '', tasks: ['fuse2fs/301'] },
    ]);
  });

  it('grouped by comm, the three fuse2fs tasks share one group again', () => {
    expect(groups(store, 'comm')).toEqual([
      { key: 'app:dd', text: '', tasks: ['dd/100'] },
      { key: 'server:fuse2fs', text: '▾ fuse2fs · 3 fuse server threads', tasks: ['fuse2fs/201', 'fuse2fs/202', 'fuse2fs/301'] },
    ]);
  });

  it('without a (tgid) column the process is unknown: grouped by comm, and the header says so', () => {
    const noTgid = PIPE.replace(/\(\s+\d+\) /g, '');
    const s = load(noTgid);
    expect(taskProcesses(s).tgidOf.size).toBe(0);
    expect(groups(s, 'process')[1]).toEqual({ key: 'server:fuse2fs', text: '▾ fuse2fs · 3 fuse server threads · process unknown', tasks: ['fuse2fs/201', 'fuse2fs/202', 'fuse2fs/301'] });
  });

  it('a recording written before schema 4 opens with every process unknown', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('../../../fixtures/real/many-lanes/fuse2fs-readers-writers.fscope', import.meta.url)));
    const reader = await RecordingReader.open(memorySource(bytes), (b) => inflateRawSync(b));
    const s = await reader.readAll();
    expect(s.length).toBeGreaterThan(0);
    expect(taskProcesses(s).tgidOf.size).toBe(0);
    const g = groups(s, 'process');
    // 26 fsw-writer-a and 35 fsw-reader-b tasks (e2e/room.spec.ts counts them from the capture).
    expect(g.find((x) => x.key === 'app:fsw-reader-b')?.text).toBe('▾ fsw-reader-b · 35 app tasks · process unknown');
    expect(g.find((x) => x.key === 'app:fsw-writer-a')?.text).toBe('▾ fsw-writer-a · 26 app tasks · process unknown');
    expect(g.every((x) => !x.key.includes(':pid:'))).toBe(true);
  });
});
