// `fusescope mount IMAGE DIR [--policy per-path|ino] [--instrument SOCK|PORT] [--mkfs SIZE]`:
// serves fusescope's own filesystem (server/fuse/) from IMAGE on DIR until SIGINT/SIGTERM or an
// unmount; `fusescope mount --cleanup DIR` removes a mount a killed server left behind.
// Exit: 0 unmounted cleanly, 1 failure (mount refused, no /dev/fuse, unmount failed), 2 usage.

import { cleanupMount, opcodeCounts, startMount } from '../fuse/session.ts';
import { NODE_POLICIES, type NodePolicy } from '../fuse/nodes.ts';
import { parseInstrumentTarget } from '../sources/instrument.ts';
import { log, UsageError, type Command } from './command.ts';

/** "64M", "1G", "65536", "512KiB" → bytes. */
export function parseSize(raw: string): number {
  const m = /^(\d+)\s*([kmgt]?)(i?b)?$/i.exec(raw.trim());
  if (!m) throw new UsageError(`--mkfs: '${raw}' is not a size (e.g. 64M, 1G, 1048576)`);
  const shift = { '': 0, k: 10, m: 20, g: 30, t: 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Number(m[1]) * 2 ** shift;
}

export const mountCommand: Command = {
  name: 'mount',
  summary: "serve fusescope's own instrumented FUSE filesystem (an image file with extents and unwritten extents) on a directory (root, /dev/fuse)",
  usage: [
    '  mount    IMAGE DIR [--policy per-path|ino] [--instrument PATH|PORT] [--instrument-token T] [--mkfs SIZE]',
    '           (a TCP PORT needs the token `serve --instrument PORT` printed: --instrument-token or FUSESCOPE_INSTRUMENT_TOKEN)',
    '  mount    --cleanup DIR',
  ].join('\n'),
  options: {
    policy: { type: 'string' },
    instrument: { type: 'string' },
    'instrument-token': { type: 'string' },
    mkfs: { type: 'string' },
    cleanup: { type: 'boolean' },
  },
  positionals: true,
  async run(flags, rest) {
    if (flags.cleanup) {
      if (rest.length !== 1) throw new UsageError('--cleanup takes one DIR');
      const n = await cleanupMount(rest[0]!, log);
      log(n > 0 ? `unmounted ${n} fusescope mount${n > 1 ? 's' : ''} on ${rest[0]}` : `no fusescope mount on ${rest[0]}`);
      return 0;
    }
    if (rest.length !== 2) throw new UsageError('needs IMAGE and DIR');
    const policy = (flags.policy ?? 'per-path') as NodePolicy;
    if (!NODE_POLICIES.includes(policy)) throw new UsageError(`--policy must be ${NODE_POLICIES.join(' or ')}`);
    let instrument = typeof flags.instrument === 'string' ? parseInstrumentTarget(flags.instrument) : undefined;
    // A TCP listener refuses a hello without its per-run token; the env keeps it out of `ps`.
    const token = (flags['instrument-token'] as string | undefined) ?? process.env.FUSESCOPE_INSTRUMENT_TOKEN;
    if (instrument && 'port' in instrument && token) instrument = { ...instrument, token };
    else if (instrument && 'port' in instrument) log('--instrument PORT without --instrument-token (or FUSESCOPE_INSTRUMENT_TOKEN): the listener will refuse the connection');
    const mkfsBytes = typeof flags.mkfs === 'string' ? parseSize(flags.mkfs) : undefined;
    if (process.getuid?.() !== 0) log('not root: mounting will probably be refused');
    // The thread answering requests is named so in ftrace (comm), for a capture's --comm filter.
    process.title = 'fusescope-mount';
    const [image, dir] = rest as [string, string];
    const m = await startMount({ image, dir, policy, instrument, mkfsBytes, log });
    log(`mounted ${image} on ${m.dir} (policy ${policy}${instrument ? `, instrumenting to ${flags.instrument}` : ''}); SIGINT or SIGTERM unmounts`);
    const code = await m.done;
    log(`unmounted ${m.dir}; requests: ${opcodeCounts(m.ops) || 'none'}`);
    return code;
  },
};
