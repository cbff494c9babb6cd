// The run's accounting on screen (the same figures as `fusescope summary`'s `accounting` key):
// upcalls per MiB by opcode, cache hit rate, unwritten conversions, lock waits, throughput in
// trace time (the simulator's virtual clock or a real trace's clock). Recomputed from the store at most once a second — it scans every row, and a
// once-a-second refresh is as fast as a person reads a table.

import { useEffect, useState } from 'react';
import { NO_APP_IO as NO_APP_IO_REASON, accountRun, type Accounting } from '../../trace/accounting.ts';
import { conversionCost, describeConversionCost, type ConversionCost } from '../../trace/conversion-cost.ts';
import type { ScenarioInfo } from '../../trace/wire.ts';
import { countWithUnfinished } from '../../trace/lock-waits.ts';
import { formatDurNs } from '../../render/time-scale.ts';
import { useStoreValue } from '../../widgets/use-store.ts';
import type { ViewHost } from '../host.ts';

const REFRESH_MS = 1000;
const MIB = 1024 * 1024;

const mib = (bytes: number): string => `${(bytes / MIB).toFixed(2)} MiB`;
/** What the bytes-moved figures read when no application read or write is in the trace (not "0 MiB"). */
const NO_APP_IO = `unknown: ${NO_APP_IO_REASON}`;
const perMib = (n: number): string => (n >= 10 ? n.toFixed(0) : n.toFixed(2));

export function AccountingView({ host, scenarioInfo }: { host: ViewHost; scenarioInfo: ScenarioInfo | null }) {
  const generation = useStoreValue(host, (h) => h.traceGeneration);
  const [acc, setAcc] = useState<Accounting>(() => accountRun(host.trace));
  const [cost, setCost] = useState<ConversionCost | null>(null);
  useEffect(() => {
    // Rescan only when rows arrived: a paused or replayed trace costs nothing per tick.
    let scannedVersion = host.trace.version;
    const scan = (): void => {
      const a = accountRun(host.trace);
      setAcc(a);
      // The conversion cost needs write and ioend pairing: only run when there are conversions.
      setCost(a.unwrittenConversions > 0 ? conversionCost(host.trace) : null);
    };
    scan();
    const timer = setInterval(() => {
      if (host.trace.version === scannedVersion) return;
      scannedVersion = host.trace.version;
      scan();
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
    ['bytesMoved', 'bytes the applications moved by reads + writes', (acc.appDataOps === 0 ? NO_APP_IO : `${mib(acc.bytesMoved)} (read ${mib(acc.bytesRead)}, written ${mib(acc.bytesWritten)})`) +
      // The FUSE server's own /dev/fuse and image IO is not the applications' (accounting.ts).
      (acc.serverBytes > 0 ? `; the server's own IO left out: ${mib(acc.serverBytes)} (${acc.serverComms.join(', ')})` : '')],
    ['throughput', 'IO throughput over that time', acc.appDataOps === 0 ? NO_APP_IO : acc.throughputBytesPerSec === null ? unknown : `${(acc.throughputBytesPerSec / MIB).toFixed(1)} MiB/s`],
    ['iomapUpcallsPerMiB', 'iomap upcalls (BEGIN+END+IOEND) per MiB', (acc.appDataOps === 0 ? NO_APP_IO : perMib(acc.iomapUpcallsPerMiB)) +
      (acc.iomapUpcalls === 0 && acc.derivedIomapNote !== null ? ': this kernel sent none (no fuse-iomap; classic FUSE_READ/FUSE_WRITE)' : '')],
    ['cacheHitRate', 'mapping cache hit rate', acc.cacheHitRate === null ? 'no cache lookups' : `${(acc.cacheHitRate * 100).toFixed(1)}% of ${acc.cacheLookups}`],
    ['staleMappings', 'stale cookies detected', staleText(acc, scenarioInfo)],
    ['unwrittenConversions', 'unwritten conversions (IOEND upcalls)', conversionsText(acc)],
    // The cover letters' "90 % more overhead", measured where the trace has conversions and writes to time.
    ...(cost ? [['conversionCost', 'cost of those conversions (rule unwritten-cost)', (acc.derivedIomapNote !== null ? 'derived: ' : '') + describeConversionCost(cost)] as [string, string, string]] : []),
    ['lockWait', 'lock waits: count, total, max (of the waits that ended)', `${countWithUnfinished(acc.lockWaits, acc.lockWaitsUnfinished, host.spans.complete)}, ${dur(acc.lockWaitTotalNs)}, ${dur(acc.lockWaitMaxNs)}`],
  ];
  return (
    <div className="accounting-view" data-testid="view-accounting">
      {acc.timesUnknown && <p className="note" data-testid="accounting-times-unknown">Times unknown: {acc.timesUnknown.reason}.</p>}
      {acc.derivedIomapNote !== null && (
        <p className="note" data-testid="accounting-derived">
          Derived, not traced: this trace's iomap steps, mappings and ioends come from fusescope's own FUSE server (fusescope-mount),
          which derives what a fuse-iomap kernel would have done from its extent map; the kernel that ran it has no fuse-iomap. Figures
          marked "derived" are statements about that server, not kernel observations.
        </p>
      )}
      <table className="data" data-testid="accounting-figures">
        <tbody>
          {figures.map(([key, label, value]) => (
            <tr key={key} data-key={key}><th>{label}</th><td className={key === 'conversionCost' ? 'prose' : 'num'}>{value}</td></tr>
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

/**
 * "stale cookies detected": a count only where something was checked. No cache events: nothing to
 * check. Validation off (the scenario says so, or the simulator's oracle saw stale mappings used):
 * the kernel compared no cookie, so a 0 would read as "all fine" when it is "not looked at".
 */
function staleText(acc: Accounting, info: ScenarioInfo | null): string {
  if (acc.cacheEvents === 0) return 'not applicable: no mapping-cache events in this trace';
  const used = acc.staleMappingsUsed > 0
    ? `; ${acc.staleMappingsUsed} stale mapping${acc.staleMappingsUsed === 1 ? '' : 's'} used, uncaught (the simulator's oracle: stale_mapping_used)` : '';
  if (info?.cookieValidation === false || acc.staleMappingsUsed > 0) return `not checked: cookie validation is off in this run${used}`;
  return String(acc.staleMappings);
}

/** Unwritten conversions, saying where they come from when no kernel sent them. */
function conversionsText(acc: Accounting): string {
  const n = String(acc.unwrittenConversions);
  if (acc.derivedIomapNote !== null && acc.iomapUpcalls === 0) {
    return `${n} derived: ioends fusescope's own server says a fuse-iomap kernel would have sent (this kernel has no fuse-iomap)`;
  }
  if (acc.ioendEvents === 0 && acc.iomapUpcalls === 0) return 'none seen: the trace has no fuse-iomap ioend or upcall';
  return n;
}
