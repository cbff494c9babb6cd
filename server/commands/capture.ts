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
import { CapturePasses } from '../capture/live-passes.ts';
import { Fuse2fsWorkload, NEW_IMAGE, fuse2fsWorkloadComms } from '../capture/fuse2fs-workload.ts';
import { cleanupLeftBehind } from '../capture/started.ts';
import { startAttachCapture, type AttachCapture } from '../capture/attach.ts';
import { serveSession, startSessionRecording } from './serve.ts';
import {
  MergedSource, WORKLOADS, WorkloadRun, allWorkloadComms, isWorkload, workloadComms, workloadSource,
  type WorkloadName,
} from '../capture/workloads.ts';
import { CAPTURE_SECONDS_MAX, CAPTURE_SECONDS_MIN, CaptureControl } from '../capture/capture-control.ts';
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
      // What a killed capture started (fuse2fs or fusescope's server, their mounts, temp dirs): ended and removed.
      const cleaned = cleanupLeftBehind();
      for (const line of cleaned) log(line);
      if (cleaned.length === 0) log('nothing a killed capture started is left (no mount, server or temporary folder)');
      return 0;
    } catch (e) {
      if (e instanceof TracefsError) {
        log(e.message);
        return 2;
      }
      throw e;
    }
  }
  if (!flags.tracefs && flags.fuse2fs === undefined && flags.attach === undefined) throw new UsageError('capture needs --tracefs, --fuse2fs IMAGE --mount DIR or --attach PID --mount DIR');
  if (flags.attach !== undefined) checkAttachFlags(flags);
  const out = flags.out as string | undefined;
  const noServe = flags['no-serve'] === true;
  if (noServe && !out) throw new UsageError('--no-serve needs -o OUT.fscope (otherwise the capture goes nowhere)');
  if (out && existsSync(out)) throw new UsageError(`${out} exists; recordings are never overwritten`);
  const workload = workloadFlags(flags);
  // --allow-capture: the page may start workloads (nothing privileged starts from a page otherwise).
  const allow = flags['allow-capture'] === true;
  if (allow && noServe) throw new UsageError('--allow-capture is for the page; it does not go with --no-serve');
  fuse2fsFlags(flags, workload !== null, allow);
  // A workload runs for --seconds (default 5), then the capture ends (under --allow-capture: the
  // page's panel starts with that many seconds; a run ends, the capture goes on).
  const seconds = (flags.seconds as number | undefined) ?? (workload || allow ? 5 : undefined);
  if (seconds !== undefined && !(seconds > 0)) throw new UsageError('--seconds must be > 0');
  if (allow && !(Number.isInteger(seconds) && seconds! >= CAPTURE_SECONDS_MIN && seconds! <= CAPTURE_SECONDS_MAX)) {
    throw new UsageError(`with --allow-capture, --seconds is a page run's length: a whole number from ${CAPTURE_SECONDS_MIN} to ${CAPTURE_SECONDS_MAX}`);
  }
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

  // What a killed capture started (a server and its mount, temp dirs) goes first: DIR may be its mount.
  if (process.getuid?.() === 0) for (const line of cleanupLeftBehind()) log(line);

  // --fuse2fs: the server started and mounted, its libfuse checked, the uprobes and the live join ready
  // (with --workload: in a temporary folder, fuse2fs-workload.ts).
  let f2: Fuse2fsCapture | null = null;
  let f2wl: Fuse2fsWorkload | null = null;
  if (flags.fuse2fs !== undefined) {
    const logPath = out ? `${out}.fuse2fs.log` : null;
    try {
      if (workload) {
        f2wl = await Fuse2fsWorkload.prepare({ name: workload.name, direct: workload.direct, image: String(flags.fuse2fs), logPath, log });
        f2 = f2wl.capture;
      } else f2 = await startFuse2fsCapture(String(flags.fuse2fs), String(flags.mount), logPath);
    } catch (e) {
      if (e instanceof TracefsError) {
        log(e.message);
        return 2;
      }
      throw e;
    }
    log(`fuse2fs (pid ${f2.fuse2fs.pid}) mounted ${f2.fuse2fs.mountDir} (FUSE connection ${f2.connection}); uprobes on ${f2.library}`);
  }
  // --attach: a running server's libfuse checked, its probes and the live join ready (it is never stopped by us).
  let att: AttachCapture | null = null;
  if (flags.attach !== undefined) {
    try {
      att = startAttachCapture(Number(flags.attach), String(flags.mount), (flags['server-log'] as string | undefined) ?? null);
    } catch (e) {
      if (e instanceof TracefsError) {
        log(e.message);
        return 2;
      }
      throw e;
    }
    log(`attached to pid ${att.pid} serving ${att.mountDir} (FUSE connection ${att.connection}); uprobes on ${att.library}`);
    if (att.serverLog === null) log('no --server-log: the paths behind nodeids are unknown (nodeids and st_ino come from the probes)');
  }
  const lf = f2 ?? att;
  // A fuse2fs workload is closed (fuse2fs unmounted) before the capture's last read, its problems said then.
  let f2wlReported = false;
  const stopFuse2fs = async (): Promise<void> => {
    const problems = (await (f2wl ? f2wl.close() : f2?.fuse2fs.stop())) ?? [];
    if (!f2wlReported) for (const p of problems) log(p);
  };

  let capture: TracefsCapture;
  let failed = false;
  let stopped!: () => void;
  const stop = new Promise<void>((r) => { stopped = r; });
  try {
    capture = TracefsCapture.open({
      events: (flags.events as string | undefined) ?? (lf ? FUSE2FS_EVENTS : DEFAULT_EVENTS),
      uprobes: lf?.uprobes, transform: lf?.join, connection: lf?.connection,
      comms: [...listFlag(flags.comm), ...(allow ? allWorkloadComms() : workload ? (f2wl ? fuse2fsWorkloadComms(workload.name) : workloadComms(workload.name)) : [])], pids,
      bufferKb: bufferKb === 0 ? null : bufferKb ?? DEFAULT_BUFFER_KB, log, reader,
      // A failed read ends the capture (and restores tracefs) rather than leaving the kernel tracing for no reader.
      onFailure: () => { failed = true; stopped(); },
    });
  } catch (e) {
    await stopFuse2fs();
    att?.close();
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
  att?.watch(() => { log(`the attached server (pid ${att!.pid}) exited: capture ends`); stopped(); });
  // A workload's --seconds count from when its programs start (after the mount), see below.
  const deadline = seconds !== undefined && !workload && !allow ? setTimeout(stopped, seconds * 1000) : undefined;

  let rec: Recorder | null = null;
  let stopRecording = (): void => {};
  let server: Awaited<ReturnType<typeof serveSession>> | null = null;
  let code = 1;
  let run: WorkloadRun | Fuse2fsWorkload | null = null;
  let merged: MergedSource | null = null;
  if (f2wl) {
    // fuse2fs is mounted and probed: the two names are made while the capture runs.
    try {
      await f2wl.setup();
      run = f2wl;
    } catch (e) {
      for (const p of await f2wl.close()) log(p);
      capture.finish();
      process.off('exit', restoreOnExit);
      log(`workload ${workload!.name}: ${(e as Error).message}`);
      return 1;
    }
  } else if (workload && !allow) {
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
  // The import's passes on the stream (join by unique, identity, lock attribution): docs/capture.md.
  // A fuse2fs workload is a fuse2fs capture (its join is the uprobes' transform), not our server's.
  const passes = new CapturePasses(lf ? 'fuse2fs' : run ? 'workload' : 'kernel', () => Number(process.hrtime.bigint() - capture.startMonoNs), run instanceof WorkloadRun ? run.mountPid ?? 0 : 0);
  // Closers of the workload runs a page started (--allow-capture) and not yet closed: called at the end.
  const closing = new Set<() => Promise<string[]>>();
  const session = new LiveSession({
    scenarios: [{ name: TRACEFS_SCENARIO, description: `live from the kernel's tracefs: ${capture.info.label}` }],
    scenario: TRACEFS_SCENARIO,
    makeSource: (name) => {
      if (name === TRACEFS_SCENARIO) return passes.source(merged ?? capture.source);
      // Page-started runs come from the capture panel (CaptureControl), never from a name.
      throw new Error(`unknown scenario '${name}' (this session streams '${TRACEFS_SCENARIO}' only${allow ? '; start workloads from the capture panel' : '; start the CLI with --allow-capture to start workloads from the page'})`);
    },
    log,
  });
  let recordingPath = (): string | null => out ?? null;
  // --allow-capture: the page's capture panel (capture_start / capture_stop); nothing else starts a run.
  const control = allow
    ? new CaptureControl({
      session, defaultSeconds: seconds!, recordingPath: () => recordingPath(), log,
      makeRunSource: (spec, s, hooks) => workloadSource(spec, capture.source, capture.startMonoNs, s, closing, log, hooks),
    })
    : null;
  try {
    if (out) {
      // A file-system error stops the recording (its whole chunks kept), never the capture: said in the log and the page.
      let failedRecorder: Recorder | null = null;
      const recordingFailed = (err: unknown): void => {
        const reason = `${(err as Error).message} (the chunks written before it are kept: ${failedRecorder?.rowsWritten ?? 0} events)`;
        log(`recording paused: ${reason}`);
        session.setRecordingStatus({ state: 'paused', file: null, reason });
      };
      const recorder = new Recorder(out, {
        // tsNs 0 is the capture's start on CLOCK_MONOTONIC, the trace clock (trace_clock mono).
        originNs: capture.startMonoNs, autoFlush: true, checks: {}, onError: recordingFailed,
        meta: {
          source: capture.info.label, scenario: TRACEFS_SCENARIO, clock: 'mono', startedAt: capture.startedAt.toISOString(),
          events: capture.events, filter: capture.filter,
          // fuse2fs: libfuse's path API gives each path its own nodeid, what our server's per-path policy imitates.
          ...(workload ? { workload: workload.name, policy: f2wl ? 'per-path' : workload.policy, direct: workload.direct } : {}),
          ...(f2wl ? { server: 'fuse2fs', image: String(flags.fuse2fs) } : {}),
        },
      });
      rec = recorder;
      failedRecorder = recorder;
      // One file for the whole capture: a browser's restart re-runs the source but does not start a new file.
      session.addListener({
        onBatch: (b, from, to) => {
          if (recorder.error) return;
          try { recorder.appendRows(b, from, to); } catch (err) { if (!recorder.error) throw err; }
        },
      });
      log(`recording to ${out}`);
    } else {
      const sessions = startSessionRecording(session, flags);
      stopRecording = sessions;
      recordingPath = sessions.currentPath;
    }
    if (!noServe) server = await serveSession(session, flags, control ?? undefined);
    session.start();
    // --workload with --allow-capture: that run starts at once, as if from the panel.
    if (control && workload) {
      const refused = control.start({ type: 'capture_start', workload: workload.name, policy: workload.policy, direct: workload.direct, seconds: seconds! });
      if (refused) throw new UsageError(refused.message);
    }
    if (server) process.stdout.write(`fusescope: open ${server.url}\n`);
    log(`capturing${seconds !== undefined ? ` for ${seconds} s` : ''} (SIGINT/SIGTERM stops)`);
    if (run) {
      log(`workload ${workload!.name} (${workload!.direct ? 'O_DIRECT' : 'buffered'}, ${f2wl ? 'Debian fuse2fs' : `policy ${workload!.policy}`}) for ${seconds} s`);
      void run.run(Date.now() + seconds! * 1000).then(stopped, (e: unknown) => { log(`workload failed: ${(e as Error).message}`); failed = true; stopped(); });
    }
    await stop;
  } finally {
    clearTimeout(deadline);
    control?.close();
    for (const s of signals) process.off(s, stopped);
    // The workload's programs and the mount end first (the server's last events reach the session).
    // A page-started workload too (it unmounts), before the capture's last read.
    const left = [...(run ? await run.close() : []), ...(await Promise.all([...closing].map((c) => c()))).flat()];
    f2wlReported = run !== null && run === f2wl;
    if (run && merged) await Promise.race([merged.whenEnded(1), new Promise((ok) => setTimeout(ok, 2000))]);
    for (const p of left) log(p);
    if (left.length > 0) failed = true;
    // The server's log as far as it goes now, before the join's last release (a reply just read waits for its lines).
    att?.close();
    const r = capture.finish();
    session.stop();
    stopRecording();
    rec?.close();
    await server?.close();
    process.off('exit', restoreOnExit);
    await stopFuse2fs();
    reportEnd(r, rec);
    const passReport = passes.report();
    if (passReport) log(passReport);
    if (lf) {
      const c = lf.join.counts;
      log(`libfuse join: ${c.joined} request(s) given their nodeid by the server's header, ${c.unjoined} without (nodeid unknown), ` +
        `${c.mismatched} opcode mismatch(es); ${c.spliced} received spliced (header in a pipe, not read); ${c.identities} nodeid → st_ino pair(s); ${c.logJoined} reply(ies) joined with the -d log (${c.logLate} not in it in time); ` +
        `${c.otherProcesses} probe hit(s) from other processes dropped`);
    }
    // 1: the capture failed, events were lost, or tracefs is not as it was (all said above).
    code = failed || r.restoreProblems.length > 0 || r.overrun + r.droppedEvents + r.lostInGaps > 0 ? 1 : 0;
  }
  return code;
}

/** --attach PID --mount DIR [--server-log FILE]: refused with what does not go with it. */
function checkAttachFlags(flags: Flags): void {
  if (!/^\d+$/.test(String(flags.attach))) throw new UsageError(`--attach: '${String(flags.attach)}' is not a process id`);
  if (flags.mount === undefined) throw new UsageError('--attach PID and --mount DIR go together');
  if (flags.fuse2fs !== undefined) throw new UsageError('--attach and --fuse2fs do not go together (--fuse2fs starts its own server)');
  if (flags.workload !== undefined || flags['allow-capture'] !== undefined) throw new UsageError('--attach does not go with --workload or --allow-capture (workloads run against fusescope\'s own server)');
}

/** --workload NAME [--policy per-path|ino] [--direct]: null without --workload. */
function workloadFlags(flags: Flags): { name: WorkloadName; policy: NodePolicy; direct: boolean } | null {
  if (flags.fuse2fs !== undefined && flags.policy !== undefined) {
    throw new UsageError('--policy has no meaning with --fuse2fs: fuse2fs uses libfuse 2\'s path API, which gives every path its own nodeid (always per-path)');
  }
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

/** --fuse2fs IMAGE with --mount DIR (a capture of it), or with --workload NAME (a temp dir; IMAGE may be `new`). */
function fuse2fsFlags(flags: Flags, workload: boolean, allow: boolean): void {
  if (flags.fuse2fs === undefined) {
    if (flags.mount !== undefined && flags.attach === undefined) throw new UsageError('--mount DIR goes with --fuse2fs IMAGE or --attach PID');
    return;
  }
  // The probes, the connection filter and the join are fixed when the capture opens tracefs, for one
  // fuse2fs process and mount: a page-started run would be another process on another connection.
  if (allow) throw new UsageError('--fuse2fs does not go with --allow-capture: its uprobes, connection filter and join are set for one fuse2fs when the capture starts; run --workload NAME --fuse2fs IMAGE from the command line');
  if (workload && flags.mount !== undefined) throw new UsageError('--mount does not go with --workload: the workload mounts fuse2fs in a temporary folder');
  if (!workload && flags.mount === undefined) throw new UsageError('--fuse2fs IMAGE needs --mount DIR (or --workload NAME, which mounts it in a temporary folder)');
  if (!workload && String(flags.fuse2fs) === NEW_IMAGE) throw new UsageError(`--fuse2fs ${NEW_IMAGE} (a fresh image) is for --workload; give an image file (./${NEW_IMAGE} for a file of that name)`);
}

function reportEnd(r: ReturnType<TracefsCapture['finish']>, rec: Recorder | null): void {
  log(`captured ${r.events} events (${r.bytesRead} bytes read from tracefs)${rec ? `; wrote ${rec.rowsWritten} rows to ${rec.path} (${rec.bytesWritten} bytes)` : ''}`);
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
    '           --allow-capture: the page\'s capture panel may start workload runs (workload, policy, O_DIRECT, seconds) and stop them',
    `  capture  --tracefs --workload NAME --fuse2fs IMAGE|${NEW_IMAGE} [--direct] [--seconds N] -o OUT.fscope`,
    '           the same workloads against Debian\'s fuse2fs mounted in a temp dir (on IMAGE, in a new folder of it; or',
    '           `new`: a fresh mke2fs -t ext4 image), probed like --fuse2fs below; no --policy (the path API: per-path)',
    '  capture  --fuse2fs IMAGE --mount DIR [-o OUT.fscope] [--events fuse,lock] [other options as above]',
    '           starts Debian\'s fuse2fs -d -o fakeroot on IMAGE at DIR, uprobes on the libfuse it maps (request',
    '           headers, entry/attr replies) joined live by unique; its -d log joined too (kept as OUT.fscope.fuse2fs.log)',
    '  capture  --attach PID --mount DIR [--server-log FILE] [-o OUT.fscope] [other options as above]',
    '           an already running libfuse 2.9/3.x server: uprobes on the libfuse it maps, DIR its mount;',
    '           never stopped or unmounted by fusescope; --server-log: the file its -d output goes to (else paths unknown)',
    `  capture  --restore   (put tracefs back as a killed capture found it; its state is in ${DEFAULT_RUN_DIR}/${STATE_FILE};`,
    `           and end what it started — fuse2fs or fusescope's server, their mounts, temp dirs: ${DEFAULT_RUN_DIR}/started-PID.json)`,
  ].join('\n'),
  options: {
    tracefs: { type: 'boolean' }, fuse2fs: { type: 'string' }, attach: { type: 'string' }, 'server-log': { type: 'string' }, mount: { type: 'string' }, restore: { type: 'boolean' }, events: { type: 'string' },
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
