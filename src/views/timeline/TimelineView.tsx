// Glue: mounts the canvas + axis, hands them to the imperative TimelineController, and renders
// the tooltip. Holds no timeline state of its own.

import { useEffect, useRef } from 'react';
import type { ViewHost } from '../host.ts';
import { TimelineController } from './controller.ts';
import { Tooltip } from './Tooltip.tsx';
import { AXIS_HEIGHT_PX } from './axis.ts';

/** `keyboard`: handle WASD (default); A/B compare turns it off on one of its two timelines. */
export function TimelineView({ host, keyboard = true }: { host: ViewHost; keyboard?: boolean }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const axisRef = useRef<SVGSVGElement>(null);

  useEffect(() => {
    const scroll = scrollRef.current;
    const canvas = canvasRef.current;
    const axis = axisRef.current;
    if (!scroll || !canvas || !axis) throw new Error('TimelineView: elements not mounted');
    const controller = new TimelineController(host, { scroll, canvas, axis }, { keyboard });
    return () => controller.dispose();
  }, [host, keyboard]);

  return (
    <div className="timeline">
      <svg className="timeline-axis" ref={axisRef} height={AXIS_HEIGHT_PX} />
      <div className="timeline-scroll" ref={scrollRef}>
        <canvas data-testid="timeline-canvas" ref={canvasRef} />
      </div>
      <Tooltip host={host} />
    </div>
  );
}
