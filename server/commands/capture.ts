// `fusescope capture --tracefs …`: a live capture from the running kernel's tracefs
// (server/capture/), served like `serve` (the same server and its defaults) and recorded to -o.
//
//   open (refusals exit 2) → LiveSession with the capture as its one source → -o recorder / the
//   sessions folder → the page (unless --no-serve) → until SIGINT/SIGTERM/SIGHUP or --seconds →
//   finish (last read, overrun report, tracefs restored) → recorder and server closed
// tracefs is also restored on any other exit (an error, process exit): see restore() below.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { LiveSession } from '../hub/live-session.ts';
import { Recorder } from '../recorder/recorder.ts';
import { DEFAULT_BUFFER_KB, DEFAULT_READER, TracefsCapture, restoreLeftBehind } from '../capture/tracefs-capture.ts';
import { DEFAULT_RUN_DIR, DEFAULT_TRACEFS, STATE_FILE, TracefsError } from '../capture/tracefs.ts';
import { DEFAULT_EVENTS, EVENT_GROUPS } from '../capture/events.ts';
import { startFuse2fsCapture, type Fuse2fsCapture } from '../capture/fuse2fs.ts';
import { serveSession, startSessionRecording } from './serve.ts';
import {
  MergedSource, WORKLOADS, WorkloadRun, allWorkloadComms, isWorkload, workloadComms, workloadScenarioName, workloadScenarios, workloadSource,
  type WorkloadName,
} from '../capture/workloads.ts';
import { NODE_POLICIES, type NodePolicy } from '../fuse/nodes.ts';
import { UsageError, log, type Command, type Flags } from './command.ts';

export const TRACEFS_SCENARIO = 'tracefs';
/** --fuse2fs: the kernel's requests and lock contention (the server's own image IO would swamp syscalls). */
const FUSE2FS_EVENTS = 'fuse,lock';

function listFlag(v: unknown): string[] {
  return v === undefined ? [] : String(v).split(',').map((s) => s.trim()).filter((s) => s !== '');
}

async function cmdCapture(flags: Flags): Promise<number> {
  if (flags.restore) {
    for (const name of Object.keys(flags)) if (name !== 'restore') throw new UsageError(`--restore takes no other option (got --${name})`);
    try {
      const r = restoreLeftBehind();
      log(r ? `restored tracefs as the killed capture (pid ${r.pid}, started ${r.startedAt}) found it` : `nothing to restore (no ${DEFAULT_RUN_DIR}/${STATE_FILE})`);
      return 0;
    } catch (e) {
      if (e instanceof TracefsError) {
        log(e.message);
        return 2;
      }
      throw e;
    }
  }
  if (!flags.tracefs && flags.fuse2fs === undefined) throw new UsageError('capture needs --tracefs or --fuse2fs IMAGE --mount DIR');
  if ((flags.fuse2fs === undefined) !== (flags.mount === undefined)) throw new UsageError('--fuse2fs IMAGE and --mount DIR go together');
  const out = flags.out as string | undefined;
  const noServe = flags['no-serve'] === true;
  if (noServe && !out) throw new UsageError('--no-serve needs -o OUT.fscope (otherwise the capture goes nowhere)');
  if (out && existsSync(out)) throw new UsageError(`${out} exists; recordings are never overwritten`);
  const workload = workloadFlags(flags);
  // --allow-capture: the page may start workloads (nothing privileged starts from a page otherwise).
  const allow = flags['allow-capture'] === true;
  if (allow && noServe) throw new UsageError('--allow-capture is for the page; it does not go with --no-serve');
  if (flags.fuse2fs !== undefined && (workload || allow)) throw new UsageError('--fuse2fs does not go with --workload or --allow-capture (workloads run against fusescope\'s own server)');
  // A workload runs for --seconds (default 5), then the capture ends (under --allow-capture: the workload ends).
  const seconds = (flags.seconds as number | undefined) ?? (workload || allow ? 5 : undefined);
  if (seconds !== undefined && !(seconds > 0)) throw new UsageError('--seconds must be > 0');
  const bufferKb = flags['buffer-kb'] as number | undefined;
  if (bufferKb !== undefined && !(Number.isInteger(bufferKb) && bufferKb >= 0)) throw new UsageError('--buffer-kb must be a whole number ≥ 0 (0: leave the buffer size as found)');
  const reader = (flags.reader as string | undefined) ?? DEFAULT_READER;
  if (reader !== 'raw' && reader !== 'text') throw new UsageError(`--reader must be raw or text (got '${reader}')`);
  const pids = listFlag(flags.pid).map((p) => {
    if (!/^\d+$/.test(p)) throw new UsageError(`--pid: '${p}' is not a process id`);
    return Number(p);
  });
  // The libuv pool's threads start on first use: start them now, so the capture sees them as its own (and filters them out).
  await access(DEFAULT_TRACEFS).catch(() => {});

  // --fuse2fs: the server started and mounted, its libfuse checked, the uprobes and the live join ready.
  let f2: Fuse2fsCapture | null = null;
  if (flags.fuse2fs !== undefined) {
    try {
      f2 = await startFuse2fsCapture(String(flags.fuse2fs), String(flags.mount), out ? `${out}.fuse2fs.log` : null);
    } catch (e) {
      if (e instanceof TracefsError) {
        log(e.message);
        return 2;
      }
      throw e;
    }
    log(`fuse2fs (pid ${f2.fuse2fs.pid}) mounted ${String(flags.mount)} (FUSE connection ${f2.connection}); uprobes on ${f2.library}`);
  }
  const stopFuse2fs = async (): Promise<void> => {
    for (const p of (await f2?.fuse2fs.stop()) ?? []) log(p);
  };

  let capture: TracefsCapture;
  let failed = false;
  let stopped!: () => void;
  const stop = new Promise<void>((r) => { stopped = r; });
  try {
    capture = TracefsCapture.open({
      events: (flags.events as string | undefined) ?? (f2 ? FUSE2FS_EVENTS : DEFAULT_EVENTS),
      uprobes: f2?.uprobes, transform: f2?.join, connection: f2?.connection,
      comms: [...listFlag(flags.comm), ...(allow ? allWorkloadComms() : workload ? workloadComms(workload.name) : [])], pids,
      bufferKb: bufferKb === 0 ? null : bufferKb ?? DEFAULT_BUFFER_KB, log, reader,
      // A failed read ends the capture (and restores tracefs) rather than leaving the kernel tracing for no reader.
      onFailure: () => { failed = true; stopped(); },
    });
  } catch (e) {
    await stopFuse2fs();
    if (e instanceof TracefsError) {
      log(e.message);
      return 2;
    }
    throw e;
  }
  // Whatever ends the process from here (an error, an exit elsewhere), tracefs is put back.
  const restoreOnExit = (): void => {
    capture.restore();
    if (f2) spawnSync('fusermount', ['-u', f2.fuse2fs.mountDir]);
  };
  process.on('exit', restoreOnExit);
  log(`capturing ${capture.events.length} tracefs events${capture.filter ? ` where ${capture.filter}` : ''}, read from ${capture.reader === 'raw' ? 'per_cpu/cpuN/trace_pipe_raw' : 'trace_pipe'}`);

  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.once(s, stopped);
  // A workload's --seconds count from when its programs start (after the mount), see below.
  const deadline = seconds !== undefined && !workload && !allow ? setTimeout(stopped, seconds * 1000) : undefined;

  let rec: Recorder | null = null;
  let stopRecording = (): void => {};
  let server: Awaited<ReturnType<typeof serveSession>> | null = null;
  let code = 1;
  let run: WorkloadRun | null = null;
  let merged: MergedSource | null = null;
  if (workload && !allow) {
    try {
      run = await WorkloadRun.start({ ...workload, originMonoNs: capture.startMonoNs, log });
    } catch (e) {
      capture.finish();
      process.off('exit', restoreOnExit);
      log(`workload ${workload.name}: ${(e as Error).message}`);
      return 1;
    }
    const origin = capture.startMonoNs;
    merged = new MergedSource([capture.source, run.listener.source], () => Number(process.hrtime.bigint() - origin));
  }
  // Closers of the workload runs a page started (--allow-capture) and not yet closed: called at the end.
  const closing = new Set<() => Promise<string[]>>();
  const startable = allow ? workloadScenarios() : [];
  const session = new LiveSession({
    scenarios: [{ name: TRACEFS_SCENARIO, description: `live from the kernel's tracefs: ${capture.info.label}` }, ...startable],
    scenario: allow && workload ? workloadScenarioName(workload) : TRACEFS_SCENARIO,
    makeSource: (name) => {
      if (name === TRACEFS_SCENARIO) return merged ?? capture.source;
      // Only under --allow-capture is any other name a source; otherwise nothing else can start.
      const w = startable.find((x) => x.name === name);
      if (!w) throw new Error(`unknown scenario '${name}' (this session streams '${TRACEFS_SCENARIO}'${allow ? ` or a workload:…` : ' only; start the CLI with --allow-capture to start workloads from the page'})`);
      return workloadSource(w.spec, capture.source, capture.startMonoNs, seconds!, closing, log);
    },
    log,
  });
  try {
    if (out) {
      const recorder = new Recorder(out, {
        // tsNs 0 is the capture's start on CLOCK_MONOTONIC, the trace clock (trace_clock mono).
        originNs: capture.startMonoNs, autoFlush: true, checks: {},
        meta: {
          source: capture.info.label, scenario: TRACEFS_SCENARIO, clock: 'mono', startedAt: capture.startedAt.toISOString(),
          events: capture.events, filter: capture.filter,
          ...(workload ? { workload: workload.name, policy: workload.policy, direct: workload.direct } : {}),
        },
      });
      rec = recorder;
      // One file for the whole capture: a browser's restart re-runs the source but does not start a new file.
      session.addListener({ onBatch: (b, from, to) => recorder.appendRows(b, from, to) });
      log(`recording to ${out}`);
    } else stopRecording = startSessionRecording(session, flags);
    if (!noServe) server = await serveSession(session, flags);
    session.start();
    if (server) process.stdout.write(`fusescope: open ${server.url}\n`);
    log(`capturing${seconds !== undefined ? ` for ${seconds} s` : ''} (SIGINT/SIGTERM stops)`);
    if (run) {
      log(`workload ${workload!.name} (${workload!.direct ? 'O_DIRECT' : 'buffered'}, policy ${workload!.policy}) for ${seconds} s`);
      void run.run(Date.now() + seconds! * 1000).then(stopped, (e: unknown) => { log(`workload failed: ${(e as Error).message}`); failed = true; stopped(); });
    }
    await stop;
  } finally {
    clearTimeout(deadline);
    for (const s of signals) process.off(s, stopped);
    // The workload's programs and the mount end first (the server's last events reach the session).
    // A page-started workload too (it unmounts), before the capture's last read.
    const left = [...(run ? await run.close() : []), ...(await Promise.all([...closing].map((c) => c()))).flat()];
    if (run && merged) await Promise.race([merged.whenEnded(1), new Promise((ok) => setTimeout(ok, 2000))]);
    for (const p of left) log(p);
    if (left.length > 0) failed = true;
    const r = capture.finish();
    session.stop();
    stopRecording();
    rec?.close();
    await server?.close();
    process.off('exit', restoreOnExit);
    await stopFuse2fs();
    reportEnd(r, rec);
    if (f2) {
      const c = f2.join.counts;
      log(`libfuse join: ${c.joined} request(s) given their nodeid by the server's header, ${c.unjoined} without (nodeid unknown), ` +
        `${c.mismatched} opcode mismatch(es); ${c.identities} nodeid → st_ino pair(s); ${c.logJoined} reply(ies) joined with the -d log (${c.logLate} not in it in time); ` +
        `${c.otherProcesses} probe hit(s) from other processes dropped`);
    }
    // 1: the capture failed, events were lost, or tracefs is not as it was (all said above).
    code = failed || r.restoreProblems.length > 0 || r.overrun + r.droppedEvents + r.lostInGaps > 0 ? 1 : 0;
  }
  return code;
}

/** --workload NAME [--policy per-path|ino] [--direct]: null without --workload. */
function workloadFlags(flags: Flags): { name: WorkloadName; policy: NodePolicy; direct: boolean } | null {
  if (flags.workload === undefined) {
    if (flags.policy !== undefined || flags.direct !== undefined) throw new UsageError('--policy and --direct go with --workload');
    return null;
  }
  const name = String(flags.workload);
  if (!isWorkload(name)) throw new UsageError(`--workload must be one of ${WORKLOADS.join(', ')} (not '${name}')`);
  const policy = String(flags.policy ?? 'per-path') as NodePolicy;
  if (!NODE_POLICIES.includes(policy)) throw new UsageError(`--policy must be ${NODE_POLICIES.join(' or ')}`);
  if (flags.pid !== undefined) throw new UsageError('--pid does not go with --workload (its processes are filtered by comm)');
  return { name, policy, direct: flags.direct === true };
}

function reportEnd(r: ReturnType<TracefsCapture['finish']>, rec: Recorder | null): void {
  log(`captured ${r.events} events (${r.bytesRead} bytes of trace_pipe)${rec ? `; wrote ${rec.rowsWritten} rows to ${rec.path} (${rec.bytesWritten} bytes)` : ''}`);
  const lost = r.overrun + r.droppedEvents;
  log(`lost: ${lost} event(s) overrun/dropped by the ring buffer (per_cpu stats), ${r.lostInGaps} reported as gaps` +
    (lost > 0 ? ` — a bigger --buffer-kb or fewer --events/--comm keeps them` : ''));
  if (r.beforeStart > 0) log(`${r.beforeStart} event(s) from before the start were not kept`);
  log(r.restoreProblems.length === 0 ? 'tracefs restored as found' : `tracefs NOT fully restored: ${r.restoreProblems.join('; ')}`);
}

export const captureCommand: Command = {
  name: 'capture',
  summary: 'capture live from the kernel\'s tracefs (root): serve it like `serve` and record it; tracefs is restored as found',
  usage: [
    `  capture  --tracefs [--events ${DEFAULT_EVENTS}] [--comm NAME…] [--pid N…] [-o OUT.fscope]`,
    '           [--port 7681] [--host 127.0.0.1] [--token T] [--no-serve] [--seconds N] [--buffer-kb N]',
    `           --events: groups ${EVENT_GROUPS.join(', ')}, any tracefs SYSTEM or SYSTEM:EVENT, comma-separated`,
    '           --comm/--pid repeat or take a comma list; without -o the run is recorded like serve\'s',
    '           (--record-dir DIR, --no-record, --record-max-bytes N)',
    `           --buffer-kb: per-CPU ring buffer for the capture (default ${DEFAULT_BUFFER_KB}; 0 leaves it as found)`,
    `           --reader raw|text: per-CPU trace_pipe_raw decoded by the events' formats, or trace_pipe's text (default ${DEFAULT_READER})`,
    `  capture  --tracefs --workload ${WORKLOADS.join('|')} [--policy per-path|ino] [--direct] [--seconds N] -o OUT.fscope`,
    '           fusescope\'s own server mounted in a temp dir, the workload run against it for --seconds (default 5)',
    '           --allow-capture: the page\'s scenario picker may start workloads (workload:NAME:POLICY[:direct]) and stop them',
    '  capture  --fuse2fs IMAGE --mount DIR [-o OUT.fscope] [--events fuse,lock] [other options as above]',
    '           starts Debian\'s fuse2fs -d -o fakeroot on IMAGE at DIR, uprobes on the libfuse it maps (request',
    '           headers, entry/attr replies) joined live by unique; its -d log joined too (kept as OUT.fscope.fuse2fs.log)',
    `  capture  --restore   (put tracefs back as a killed capture found it; its state is in ${DEFAULT_RUN_DIR}/${STATE_FILE})`,
  ].join('\n'),
  options: {
    tracefs: { type: 'boolean' }, fuse2fs: { type: 'string' }, mount: { type: 'string' }, restore: { type: 'boolean' }, events: { type: 'string' },
    comm: { type: 'string', multiple: true }, pid: { type: 'string', multiple: true }, out: { type: 'string', short: 'o' },
    port: { type: 'string' }, host: { type: 'string' }, token: { type: 'string' }, 'no-serve': { type: 'boolean' },
    seconds: { type: 'string' }, 'buffer-kb': { type: 'string' }, reader: { type: 'string' },
    workload: { type: 'string' }, policy: { type: 'string' }, direct: { type: 'boolean' }, 'allow-capture': { type: 'boolean' },
    'record-dir': { type: 'string' }, 'no-record': { type: 'boolean' }, 'record-max-bytes': { type: 'string' },
  },
  numbers: ['port', 'seconds', 'buffer-kb', 'record-max-bytes'],
  positionals: false,
  run: cmdCapture,
};
