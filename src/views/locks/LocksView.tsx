// Glue: the lock lanes canvas (LocksController) beside the contention table (LocksTable) and the
// locks' identities (LockIdentities: address, inode, evidence).

import { useEffect, useRef } from 'react';
import type { ViewHost } from '../host.ts';
import { LocksController } from './controller.ts';
import { LocksTable } from './LocksTable.tsx';
import { LockIdentities } from './LockIdentities.tsx';
import { PerfSummaryTable } from './PerfSummaryTable.tsx';
import { lockSummaryRows } from '../../trace/derive/locks.ts';
import type { LocksFilter } from './model.ts';
import { useStoreValue } from '../../widgets/use-store.ts';

export function LocksView({ host, filter }: { host: ViewHost; filter: LocksFilter }) {
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const ctrlRef = useRef<LocksController | null>(null);
  const lockCount = useStoreValue(host, (h) => h.locks.locks.length);
  const inferredHolds = useStoreValue(host, (h) => h.locks.inferredHolds);
  const perfSummaries = useStoreValue(host, (h) => lockSummaryRows(h.trace).length);
  // Only for the empty note (-1 once there are locks: no re-render per batch then).
  const events = useStoreValue(host, (h) => (h.locks.locks.length > 0 ? -1 : h.trace.length));

  useEffect(() => {
    const box = boxRef.current;
    const canvas = canvasRef.current;
    if (!box || !canvas) throw new Error('LocksView: elements not mounted');
    const c = new LocksController(host, box, canvas);
    ctrlRef.current = c;
    return () => { c.dispose(); ctrlRef.current = null; };
  }, [host]);
  const filterKey = JSON.stringify(filter);
  useEffect(() => { ctrlRef.current?.setFilter(JSON.parse(filterKey) as LocksFilter); }, [filterKey]);

  return (
    <div className="locks-view" data-testid="view-locks">
      <div className="locks-lanes">
        {lockCount === 0 && perfSummaries === 0 && (
          <p className="muted empty-note" data-testid="locks-empty">
            {events === 0 ? 'No events yet: i_rwsem waits and holds appear here as the trace records them.'
              : `No lock events in this trace's ${events.toLocaleString('en-US')} events (no lock_wait, lock_acquire or lock_release): `
                + 'a capture without the lock tracepoints (capture --events lock), or a source that does not trace i_rwsem '
                + '(a libfuse -d log, an instrumented server).'}
          </p>
        )}
        {lockCount === 0 && perfSummaries > 0 && (
          <p className="trace-note" data-testid="locks-no-timeline-note">
            This trace holds perf lock contention totals only: they carry no timeline, so there are no lanes to draw. Its
            rows are in the table beside.
          </p>
        )}
        {inferredHolds > 0 && (
          <p className="trace-note" data-testid="locks-inferred-note">
            Hold ends are not traced: {inferredHolds} {inferredHolds === 1 ? 'hold is' : 'holds are'} inferred from lock contention
            events (a hold starts where a wait ended), so each shows where it began and fades out — how long it was held is
            unknown, and no hold time, overlap or holder is computed from {inferredHolds === 1 ? 'it' : 'them'}.
          </p>
        )}
        <div className="locks-scroll" ref={boxRef}>
          <canvas data-testid="locks-canvas" ref={canvasRef} />
        </div>
      </div>
      <div className="locks-tables">
        <PerfSummaryTable host={host} />
        <LocksTable host={host} filter={filter} />
        <LockIdentities host={host} />
      </div>
    </div>
  );
}
