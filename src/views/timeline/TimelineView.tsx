// Glue: mounts the canvas + axis, hands them to the imperative TimelineController, and renders
// the tooltip. Holds no timeline state of its own.

import { useEffect, useRef, useState } from 'react';
import type { ViewHost } from '../host.ts';
import { TimelineController } from './controller.ts';
import type { LaneGrouping } from './model.ts';
import { Tooltip } from './Tooltip.tsx';
import { AXIS_HEIGHT_PX } from './axis.ts';

/**
 * `keyboard`: handle WASD (default); A/B compare turns it off on one of its two timelines.
 * `onContentHeightPx`: told the lanes' total height when it changes (the page fits the panel to it).
 */
export function TimelineView({ host, keyboard = true, onContentHeightPx }: { host: ViewHost; keyboard?: boolean; onContentHeightPx?: (px: number) => void }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const axisRef = useRef<SVGSVGElement>(null);
  const controllerRef = useRef<TimelineController | null>(null);
  const [grouping, setGrouping] = useState<LaneGrouping>('process');
  // The latest callback, read at call time: a new function per render must not remake the controller.
  const onContentRef = useRef(onContentHeightPx);
  onContentRef.current = onContentHeightPx;

  useEffect(() => {
    const scroll = scrollRef.current;
    const canvas = canvasRef.current;
    const axis = axisRef.current;
    if (!scroll || !canvas || !axis) throw new Error('TimelineView: elements not mounted');
    const controller = new TimelineController(host, { scroll, canvas, axis }, { keyboard, onContentHeightPx: (px) => onContentRef.current?.(px) });
    controllerRef.current = controller;
    setGrouping(controller.grouping);
    return () => { controllerRef.current = null; controller.dispose(); };
  }, [host, keyboard]);

  return (
    <div className="timeline">
      <svg className="timeline-axis" ref={axisRef} height={AXIS_HEIGHT_PX} />
      <button type="button" className="lane-grouping" data-testid="lane-grouping"
        title={grouping === 'process'
          ? 'Lanes grouped by the process the trace names (its tgid); tasks whose process it does not name, by comm. Click to group by comm only'
          : 'Lanes grouped by comm (threads of one process and processes of one program alike). Click to group by process'}
        onClick={() => {
          const c = controllerRef.current;
          if (!c) return;
          c.grouping = grouping === 'process' ? 'comm' : 'process';
          setGrouping(c.grouping);
        }}>
        group by: {grouping}
      </button>
      <div className="timeline-scroll" ref={scrollRef}>
        <canvas data-testid="timeline-canvas" ref={canvasRef} />
      </div>
      <Tooltip host={host} />
    </div>
  );
}
