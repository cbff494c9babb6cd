import { describe, expect, it } from 'vitest';
import { ev } from '../../trace/testing/events.ts';
import { relativesOf } from '../../trace/derive/relatives.ts';
import { derived } from '../testing-fixtures.ts';
import { buildTimelineModel, orderLanes } from './model.ts';
import { flowSegments } from './flows.ts';
import { SUBROW_HEIGHT_PX, subrowTopPx } from './layout.ts';

describe('timeline flows', () => {
  it('draws syscall → request and request → server thread', () => {
    const d = derived([
      ev('app_op_begin', 0, 'app/1'),
      ev('fuse_send', 100, 'app/1', { unique: 2 }),
      ev('fuse_recv', 200, 'srv/2', { unique: 2 }),
      ev('fuse_reply', 300, 'srv/2', { unique: 2 }),
      ev('app_op_end', 400, 'app/1'),
    ]);
    const model = buildTimelineModel(d.spans, d.store, 0, 1000, 1000);
    const fromSyscall = flowSegments(model, d.spans, d.store, 0, relativesOf({ trace: d.store, ...d }, 0, -1));
    expect(fromSyscall).toEqual([{ x0Px: 0, y0Px: subrowTopPx(0, 0) + SUBROW_HEIGHT_PX / 2, x1Px: 100, y1Px: subrowTopPx(0, 2) + SUBROW_HEIGHT_PX / 2, role: 'caused' }]);
    const fromRequest = flowSegments(model, d.spans, d.store, 1, relativesOf({ trace: d.store, ...d }, 1, -1));
    expect(fromRequest.map((f) => [f.role, f.x1Px, f.y1Px])).toEqual([['served by', 200, subrowTopPx(1, 0) + SUBROW_HEIGHT_PX / 2]]);
  });
});

describe('lane order', () => {
  it('pins first, then role, grouped by process', () => {
    const lanes = [
      { idx: 0, task: 'writerA/1', role: 'app' as const },
      { idx: 1, task: 'fuse2fs/501', role: 'server' as const },
      { idx: 2, task: 'reader/3', role: 'app' as const },
      { idx: 3, task: 'writerA/4', role: 'app' as const },
      { idx: 4, task: 'fuse2fs/502', role: 'server' as const },
    ];
    expect(orderLanes(lanes).map((l) => l.task)).toEqual(['writerA/1', 'writerA/4', 'reader/3', 'fuse2fs/501', 'fuse2fs/502']);
    const pinned = orderLanes(lanes, ['fuse2fs/502']);
    expect(pinned.map((l) => [l.task, l.pinned, l.firstOfProcess])).toEqual([
      ['fuse2fs/502', true, true], ['writerA/1', false, true], ['writerA/4', false, false], ['reader/3', false, true], ['fuse2fs/501', false, true],
    ]);
  });
});
