// The run's accounting on screen (the same figures as `fusescope summary`'s `accounting` key):
// upcalls per MiB by opcode, cache hit rate, unwritten conversions, lock waits, throughput in
// trace time (the simulator's virtual clock or a real trace's clock). Recomputed from the store at most once a second — it scans every row, and a
// once-a-second refresh is as fast as a person reads a table.

import { useEffect, useState } from 'react';
import { accountRun, type Accounting } from '../../trace/accounting.ts';
import { countWithUnfinished } from '../../trace/lock-waits.ts';
import { formatDurNs } from '../../render/time-scale.ts';
import { useStoreValue } from '../../widgets/use-store.ts';
import type { ViewHost } from '../host.ts';

const REFRESH_MS = 1000;
const MIB = 1024 * 1024;

const mib = (bytes: number): string => `${(bytes / MIB).toFixed(2)} MiB`;
const perMib = (n: number): string => (n >= 10 ? n.toFixed(0) : n.toFixed(2));

export function AccountingView({ host }: { host: ViewHost }) {
  const generation = useStoreValue(host, (h) => h.traceGeneration);
  const [acc, setAcc] = useState<Accounting>(() => accountRun(host.trace));
  useEffect(() => {
    // Rescan only when rows arrived: a paused or replayed trace costs nothing per tick.
    let scannedVersion = host.trace.version;
    setAcc(accountRun(host.trace));
    const timer = setInterval(() => {
      if (host.trace.version === scannedVersion) return;
      scannedVersion = host.trace.version;
      setAcc(accountRun(host.trace));
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [host, generation]);

  // null: some events have no time (pasted lines without times): said, never computed from their order.
  const unknown = acc.timesUnknown ? 'unknown: some events have no time' : 'unknown';
  const dur = (ns: number | null): string => (ns === null ? unknown : formatDurNs(ns));
  const opcodes = Object.keys(acc.upcallsByOpcode).sort((a, b) => acc.upcallsByOpcode[b]! - acc.upcallsByOpcode[a]!);
  const figures: Array<[string, string, string]> = [
    // With untimed events the duration is the timed events' span (accounting.ts): said next to the figure.
    ['duration', 'time from first to last event, on the trace\u2019s clock',
      acc.timesUnknown && acc.durationNs !== null ? `${formatDurNs(acc.durationNs)} (timed events only)` : dur(acc.durationNs)],
    ['bytesMoved', 'bytes the applications moved by reads + writes', `${mib(acc.bytesMoved)} (read ${mib(acc.bytesRead)}, written ${mib(acc.bytesWritten)})` +
      // The FUSE server's own /dev/fuse and image IO is not the applications' (accounting.ts).
      (acc.serverBytes > 0 ? `; the server's own IO left out: ${mib(acc.serverBytes)} (${acc.serverComms.join(', ')})` : '')],
    ['throughput', 'IO throughput over that time', acc.throughputBytesPerSec === null ? unknown : `${(acc.throughputBytesPerSec / MIB).toFixed(1)} MiB/s`],
    ['iomapUpcallsPerMiB', 'iomap upcalls (BEGIN+END+IOEND) per MiB', perMib(acc.iomapUpcallsPerMiB)],
    ['cacheHitRate', 'mapping cache hit rate', acc.cacheHitRate === null ? 'no cache lookups' : `${(acc.cacheHitRate * 100).toFixed(1)}% of ${acc.cacheLookups}`],
    ['staleMappings', 'stale cookies detected', String(acc.staleMappings)],
    ['unwrittenConversions', 'unwritten conversions (IOEND upcalls)', String(acc.unwrittenConversions)],
    ['lockWait', 'lock waits: count, total, max (of the waits that ended)', `${countWithUnfinished(acc.lockWaits, acc.lockWaitsUnfinished, host.spans.complete)}, ${dur(acc.lockWaitTotalNs)}, ${dur(acc.lockWaitMaxNs)}`],
  ];
  return (
    <div className="accounting-view" data-testid="view-accounting">
      {acc.timesUnknown && <p className="note" data-testid="accounting-times-unknown">Times unknown: {acc.timesUnknown.reason}.</p>}
      <table className="data" data-testid="accounting-figures">
        <tbody>
          {figures.map(([key, label, value]) => (
            <tr key={key} data-key={key}><th>{label}</th><td className="num">{value}</td></tr>
          ))}
        </tbody>
      </table>
      <table className="data" data-testid="accounting-upcalls">
        <thead><tr><th>opcode</th><th>upcalls</th><th>per MiB moved</th></tr></thead>
        <tbody>
          {opcodes.map((op) => (
            <tr key={op} data-opcode={op}>
              <td>{op}</td><td className="num">{acc.upcallsByOpcode[op]}</td>
              <td className="num">{acc.upcallsPerMiB[op] === undefined ? '—' : perMib(acc.upcallsPerMiB[op]!)}</td>
            </tr>
          ))}
          {opcodes.length === 0 && <tr><td colSpan={3}>no FUSE requests in this trace (e.g. a kernel-ext4 baseline)</td></tr>}
        </tbody>
      </table>
    </div>
  );
}
