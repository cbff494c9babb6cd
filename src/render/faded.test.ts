import { describe, expect, it } from 'vitest';
import { SpanFlag } from '../trace/spans.ts';
import { Edge, fadedEdges, isInferredStub } from './faded.ts';

describe('fadedEdges: which ends of a span fade (shared by the timeline, locks and aliases views)', () => {
  it('a span the trace shows whole, or a live span still running, fades nowhere', () => {
    expect(fadedEdges(0, false)).toBe(0);
    expect(fadedEdges(0, true)).toBe(0); // live and open: drawn to now
    expect(fadedEdges(SpanFlag.failed, false)).toBe(0); // failed is not an unknown end
  });
  it('a span begun before the trace fades at its start, open or closed', () => {
    expect(fadedEdges(SpanFlag.begunBefore, false)).toBe(Edge.begunBefore);
    expect(fadedEdges(SpanFlag.begunBefore | SpanFlag.openEnded, true)).toBe(Edge.begunBefore | Edge.openEnd);
  });
  it('an open-ended span and an inferred hold fade at their end only while open', () => {
    expect(fadedEdges(SpanFlag.openEnded, true)).toBe(Edge.openEnd);
    expect(fadedEdges(SpanFlag.inferredHold, true)).toBe(Edge.openEnd);
    // A hold inferred from contention that a traced release later closed has both ends.
    expect(fadedEdges(SpanFlag.inferredHold, false)).toBe(0);
  });
  it('only an open inferred hold is drawn as a stub', () => {
    expect(isInferredStub(SpanFlag.inferredHold, true)).toBe(true);
    expect(isInferredStub(SpanFlag.inferredHold, false)).toBe(false);
    expect(isInferredStub(SpanFlag.openEnded, true)).toBe(false);
    expect(isInferredStub(0, true)).toBe(false);
  });
});
