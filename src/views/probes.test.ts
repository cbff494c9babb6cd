import { describe, expect, it } from 'vitest';
import { enableProbes, probeOf, registerProbe, type ViewProbe } from './probes.ts';

const at = (spanId: number): ViewProbe => ({ findSpan: () => ({ xPx: 10, yPx: 20, spanId }) });

describe('probe registry (the e2e hooks channel, not ViewHost)', () => {
  it('keeps nothing until the test hooks enable it, then answers per host until unregistered', () => {
    const main = {};
    const sideA = {};
    // Production page without the hooks: registering is a no-op.
    const before = registerProbe(main, 'timeline', at(1));
    expect(probeOf(main, 'timeline')).toBeNull();
    before();

    enableProbes();
    const offMain = registerProbe(main, 'timeline', at(1));
    const offSide = registerProbe(sideA, 'timeline', at(2));
    expect(probeOf(main, 'timeline')?.findSpan()?.spanId).toBe(1);
    expect(probeOf(sideA, 'timeline')?.findSpan()?.spanId).toBe(2);
    expect(probeOf(main, 'locks')).toBeNull();

    offMain();
    expect(probeOf(main, 'timeline')).toBeNull();
    expect(probeOf(sideA, 'timeline')?.findSpan()?.spanId).toBe(2);
    // A remounted view registered again before the old one's dispose ran: the old dispose keeps the new probe.
    const again = registerProbe(sideA, 'timeline', at(3));
    offSide();
    expect(probeOf(sideA, 'timeline')?.findSpan()?.spanId).toBe(3);
    again();
    expect(probeOf(sideA, 'timeline')).toBeNull();
  });
});
