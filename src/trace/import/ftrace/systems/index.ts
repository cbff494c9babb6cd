// Every tracing system whose tracepoints become schema events; a tracepoint in none of them is
// kept as an `instant` with its body. A name may appear in one system only (checked at startup).
import type { AnyTracepointSystem } from '../context.ts';
import { fuseSystem } from './fuse.ts';
import { iomapSystem } from './iomap.ts';
import { lockSystem } from './lock.ts';
import { miscSystem } from './misc.ts';
import { xfsSystem } from './xfs.ts';

export const SYSTEMS: ReadonlyArray<AnyTracepointSystem> = [fuseSystem, iomapSystem, lockSystem, miscSystem, xfsSystem];
