// The timeline legend's groups (one palette for all views, so a colour means the same everywhere), shared by both page modes.
import type { LegendGroup } from '../widgets/Legend.tsx';
import { PALETTE } from '../render/palette.ts';

export const LEGEND: readonly LegendGroup[] = [
  { title: 'mapping type', items: PALETTE.filter((p) => p.group === 'mapping') },
  { title: 'syscall', items: PALETTE.filter((p) => p.group === 'app') },
  { title: 'fuse request', items: PALETTE.filter((p) => p.group === 'fuse') },
  { title: 'lock', items: PALETTE.filter((p) => p.group === 'lock') },
];
