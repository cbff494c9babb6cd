// The capture panel: under the header only when the server says the page may start capture runs
// (`fusescope capture --tracefs --allow-capture`: its hello carries `capture`). Start / Stop send
// capture_start / capture_stop; the status is the server's, pushed to every viewer, never guessed
// here. Without --allow-capture the server sends no `capture` and this renders nothing at all.

import { useState } from 'react';
import type { AppStore } from './app-store.ts';
import type { WsClient } from './ws-client.ts';
import type { CaptureRunStatus } from '../trace/wire.ts';
import { useStoreValue } from '../widgets/use-store.ts';

/** What each built-in workload does (docs/capture.md, "Workloads"); shown as the option's title. */
const WORKLOAD_TITLES: Record<string, string> = {
  'hardlink-writers': 'dd writers through the two hardlink names a and b of one file, concurrently',
  'readers-writers': 'a dd writer through a, a dd reader through its hardlink b',
  'truncate-race': 'a dd writer through a; truncate to 1 MiB and to 0 through its hardlink b',
};
const POLICY_TITLES: Record<string, string> = {
  'per-path': 'a nodeid per name, as libfuse 2\'s path API (Debian\'s fuse2fs): the two names are two kernel inodes with two locks',
  ino: 'one nodeid per on-disk inode: the two names share one kernel inode and its lock',
};

export function CapturePanel({ store, client }: { store: AppStore; client: WsClient }) {
  const capture = useStoreValue(store, (s) => s.status.capture);
  const connected = useStoreValue(store, (s) => s.status.connection === 'open');
  const [workload, setWorkload] = useState('');
  const [policy, setPolicy] = useState('');
  const [direct, setDirect] = useState(false);
  const [secondsText, setSecondsText] = useState('');
  if (!capture) return null;
  const { status } = capture;
  const pickedWorkload = workload || capture.workloads[0] || '';
  const pickedPolicy = policy || capture.policies[0] || '';
  const secondsShown = secondsText === '' ? String(capture.defaultSeconds) : secondsText;
  const seconds = Number(secondsShown);
  const secondsOk = Number.isInteger(seconds) && seconds >= capture.secondsMin && seconds <= capture.secondsMax;
  const active = status.phase === 'mounting' || status.phase === 'running' || status.phase === 'stopping';
  return (
    <section className="capture-panel" data-testid="capture-panel" aria-label="capture">
      <strong className="capture-title" title="This server was started with --allow-capture: runs started here mount fusescope's own FUSE server in a temporary folder on the server's machine, as root">Capture</strong>
      <label>
        workload
        <select data-testid="capture-workload" value={pickedWorkload} disabled={active} onChange={(e) => setWorkload(e.target.value)}
          title={WORKLOAD_TITLES[pickedWorkload]}>
          {capture.workloads.map((w) => <option key={w} value={w} title={WORKLOAD_TITLES[w]}>{w}</option>)}
        </select>
      </label>
      <label>
        nodeids
        <select data-testid="capture-policy" value={pickedPolicy} disabled={active} onChange={(e) => setPolicy(e.target.value)}
          title={POLICY_TITLES[pickedPolicy]}>
          {capture.policies.map((p) => <option key={p} value={p} title={POLICY_TITLES[p]}>{p}</option>)}
        </select>
      </label>
      <label>
        I/O
        <select data-testid="capture-io" value={direct ? 'direct' : 'buffered'} disabled={active} onChange={(e) => setDirect(e.target.value === 'direct')}>
          <option value="buffered">buffered</option>
          <option value="direct">O_DIRECT</option>
        </select>
      </label>
      <label title={`whole seconds, ${capture.secondsMin}–${capture.secondsMax}, counted from the workload's start (after the mount)`}>
        seconds
        <input data-testid="capture-seconds" type="number" min={capture.secondsMin} max={capture.secondsMax} step={1}
          value={secondsShown} disabled={active} aria-invalid={!secondsOk} onChange={(e) => setSecondsText(e.target.value)} />
      </label>
      <button type="button" data-testid="capture-start" disabled={!connected || active || !secondsOk}
        title="Mount fusescope's server, run the workload for the seconds given while capturing, then unmount (the views start afresh)"
        onClick={() => client.send({ type: 'capture_start', workload: pickedWorkload, policy: pickedPolicy, direct, seconds })}>Start</button>
      <button type="button" data-testid="capture-stop" disabled={!connected || (status.phase !== 'mounting' && status.phase !== 'running')}
        title="End the run now: its programs stop and the server unmounts; what the views show stays"
        onClick={() => client.send({ type: 'capture_stop' })}>Stop</button>
      <span className={`capture-status capture-${status.phase}`} data-testid="capture-status" data-phase={status.phase}>{statusText(status)}</span>
      <div className="capture-where" data-testid="capture-where">
        {status.run && <span className="capture-run" data-testid="capture-run">{status.run.workload} · {status.run.policy} · {status.run.direct ? 'O_DIRECT' : 'buffered'}</span>}
        <span className="capture-path">{mountText(status)}{status.mountDir && <code data-testid="capture-mount">{status.mountDir}</code>}</span>
        {status.recording && <span className="capture-path" title="the recording of this run on the server">recording <code data-testid="capture-recording">{status.recording}</code></span>}
      </div>
    </section>
  );
}

/** What the mount dir is now: the server's status says, this only words it. */
function mountText(s: CaptureRunStatus): string {
  if (!s.mountDir) return s.phase === 'mounting' ? 'mounting fusescope\'s server in a temporary folder…' : 'nothing mounted';
  switch (s.phase) {
    case 'done': return 'unmounted ';
    case 'failed': return 'mount point ';
    default: return 'mounted on ';
  }
}

function secondsOf(ms: number): string {
  return (ms / 1000).toFixed(1);
}

function statusText(s: CaptureRunStatus): string {
  switch (s.phase) {
    case 'idle': return 'idle';
    case 'mounting': return 'mounting…';
    case 'running': return `running ${Math.floor(s.elapsedMs / 1000)} s of ${s.run?.seconds ?? '?'}`;
    case 'stopping': return `stopping after ${secondsOf(s.elapsedMs)} s (unmounting)…`;
    case 'done': return s.reason ? `done after ${secondsOf(s.elapsedMs)} s — ${s.reason}` : `done: ran ${secondsOf(s.elapsedMs)} s`;
    case 'failed': return `failed: ${s.reason ?? 'no reason given'}`;
  }
}
