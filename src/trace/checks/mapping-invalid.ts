// mapping-invalid (docs/checks.md): a BEGIN reply's mapping that breaks the kernel's validation
// rules (docs/domain.md §1.4), and the kernel's own fuse_iomap_bad_data, after which the IO fails
// with EFSCORRUPTED. What the trace cannot show is not checked here (which devices the server
// registered, s_maxbytes, whether the inode has a cache): the kernel's bad_data still reports those.
import { KIND_CODE, ENUMS } from '../schema.ts';
import type { TraceStore } from '../store.ts';
import { MAP_FLAGS_SERVER_MASK, MapType, mapTypeName } from '../fuse-proto.ts';
import type { Checker, CheckSettings, Finding, RuleInfo } from './types.ts';
import { rowSet } from './text.ts';

const K = KIND_CODE;
const SOURCE_REPLY = ENUMS.source.indexOf('reply');
const SLOT_READ = ENUMS.slot.indexOf('read');
const ALL_ONES_32 = 0xffff_ffff;

interface Bad {
  beginRow: number;
  mapRows: number[];
  badDataRow: number;
  /** Why, in the rule's words (ours), or the kernel's bad_data message. */
  reasons: string[];
  kernelMessage: string | null;
  tsNs: number;
}

/** Why a mapping breaks §1.4, or null. Numbers as stored; addr as its two u32 halves. */
export function mappingProblem(
  slotIsRead: boolean, type: number, flags: number, offset: number, len: number, addrHi: number, addrLo: number, dev: number,
  posBytes: number | null, blockBytes: number,
): string | null {
  const slot = slotIsRead ? 'read mapping' : 'write mapping';
  switch (type) {
    case MapType.HOLE: case MapType.DELALLOC: case MapType.MAPPED: case MapType.UNWRITTEN: case MapType.INLINE: break;
    case MapType.PURE_OVERWRITE: if (slotIsRead) return `${slot}: pure overwrite is only allowed in the write slot`; break;
    case MapType.RETRY_CACHE: if (!slotIsRead) return `${slot}: retry_cache is only allowed in the read slot`; break;
    case MapType.NOCACHE: return `${slot}: nocache is not allowed in a begin reply`;
    default: return `${slot}: unknown type ${mapTypeName(type)}`;
  }
  if ((flags & ~MAP_FLAGS_SERVER_MASK) !== 0) return `${slot}: unknown or kernel-only flags 0x${flags.toString(16)}`;
  if (len === 0) return `${slot}: zero length`;
  if (offset % blockBytes !== 0 || len % blockBytes !== 0) return `${slot}: offset ${offset} or length ${len} not a multiple of ${blockBytes} bytes`;
  if (posBytes !== null && (posBytes < offset || posBytes >= offset + len)) return `${slot}: ${offset}+${len} does not contain pos ${posBytes}`;
  const nullAddr = addrHi === ALL_ONES_32 && addrLo === ALL_ONES_32;
  if (type === MapType.MAPPED || type === MapType.UNWRITTEN) {
    if (dev === 0) return `${slot}: ${mapTypeName(type)} with the null device`;
    if (nullAddr) return `${slot}: ${mapTypeName(type)} with the null address`;
  } else if (type === MapType.HOLE || type === MapType.DELALLOC || type === MapType.INLINE) {
    if (dev !== 0 || !nullAddr) return `${slot}: ${mapTypeName(type)} must carry the null device and address`;
  }
  return null;
}

/** Per task, one entry (one lookup per row): its current iomap_begin, the reply rows since, the finding they made. */
interface TaskState {
  /** Whether an iomap_begin of a fuse inode was seen on the task; then its stream row, nodeid and pos. */
  begun: boolean;
  beginRow: number;
  nodeId: number;
  posBytes: number;
  /** The reply map rows seen since (reused per task: no array per step). */
  replyRows: number[];
  /** The finding its current reply already made (a bad_data joins it). */
  open: Bad | null;
}

class MappingInvalidChecker implements Checker {
  readonly rule = 'mapping-invalid' as const;
  private readonly bad: Bad[] = [];
  private readonly tasks = new Map<number, TaskState>();

  private stateOf(t: number): TaskState {
    let st = this.tasks.get(t);
    if (!st) this.tasks.set(t, (st = { begun: false, beginRow: -1, nodeId: 0, posBytes: 0, replyRows: [], open: null }));
    return st;
  }

  constructor(private readonly blockBytes: number) {}

  onRows(store: TraceStore, from: number, to: number, rowBase: number): void {
    const kinds = store.kinds;
    const ts = store.tsNs;
    const task = store.col('task');
    const nodeId = store.col('nodeId');
    const source = store.col('source');
    const slot = store.col('slot');
    const type = store.col('mapType');
    const flags = store.col('mapFlags');
    const off = store.col('mapOffsetBytes');
    const len = store.col('mapLenBytes');
    const addrHi = store.col('mapAddrHi');
    const addrLo = store.col('mapAddrLo');
    const dev = store.col('mapDev');
    const pos = store.col('posBytes');
    for (let row = from; row < to; row++) {
      const k = kinds[row]!;
      if (k === K.iomap_begin) {
        if (nodeId[row] === 0) continue;
        const st = this.stateOf(task[row]!);
        st.begun = true; st.beginRow = rowBase + row; st.nodeId = nodeId[row]!; st.posBytes = pos[row]!;
        st.replyRows.length = 0;
        st.open = null;
      } else if (k === K.iomap_map) {
        // Only a fuse inode's mapping from a server's reply (a kernel filesystem's, nodeid 0, is not a reply).
        if (nodeId[row] === 0 || source[row] !== SOURCE_REPLY) continue;
        const st = this.stateOf(task[row]!);
        const sameNode = st.begun && st.nodeId === nodeId[row];
        st.replyRows.push(rowBase + row);
        const why = mappingProblem(slot[row] === SLOT_READ, type[row]!, flags[row]!, off[row]!, len[row]!, addrHi[row]!, addrLo[row]!, dev[row]!,
          sameNode ? st.posBytes : null, this.blockBytes);
        if (why === null) continue;
        const open = st.open;
        if (open) { open.mapRows.push(rowBase + row); open.reasons.push(why); continue; }
        const f: Bad = { beginRow: sameNode ? st.beginRow : -1, mapRows: [rowBase + row], badDataRow: -1, reasons: [why], kernelMessage: null, tsNs: ts[row]! };
        this.bad.push(f);
        st.open = f;
      } else if (k === K.iomap_bad_data) {
        const st = this.tasks.get(task[row]!);
        const message = store.strings.get(store.col('message')[row]!) ?? '';
        const open = st?.open;
        if (open && open.badDataRow < 0) { open.badDataRow = rowBase + row; open.kernelMessage = message; continue; }
        const sameNode = st !== undefined && st.begun && st.nodeId === nodeId[row];
        this.bad.push({
          beginRow: sameNode ? st.beginRow : -1, mapRows: sameNode ? [...st.replyRows] : [], badDataRow: rowBase + row,
          reasons: [], kernelMessage: message, tsNs: ts[row]!,
        });
      }
    }
  }

  findings(): Finding[] {
    return this.bad.map((b) => {
      const seen = b.reasons.length > 0
        ? `The reply breaks ${b.reasons.length === 1 ? 'this rule' : 'these rules'}: ${b.reasons.join('; ')}.`
        : 'The reply\'s mapping is not in the trace, or breaks a rule the trace cannot show (an unregistered device, s_maxbytes, a RETRY_CACHE without a cache).';
      const kernel = b.badDataRow >= 0
        ? ` The kernel refused it: fuse_iomap_bad_data "${b.kernelMessage}", and the IO failed with EFSCORRUPTED.`
        : ' The trace shows no fuse_iomap_bad_data for it: either the tracepoint was not enabled or the kernel accepted a mapping the rules forbid.';
      return {
        rule: this.rule, severity: 'error' as const,
        explanation: 'mapping-invalid: the kernel checks every mapping a FUSE server sends in an IOMAP_BEGIN reply before using it ' +
          '(docs/domain.md §1.4): a known type and only the flags a server may set, a non-zero length, offset and length in whole ' +
          'filesystem blocks, a range that contains the position asked for, and for mapped or unwritten extents a registered ' +
          `device and a real address (hole, delalloc and inline: none). ${seen}${kernel}`,
        tsNs: b.tsNs, durNs: 0,
        evidence: rowSet([b.beginRow, ...b.mapRows, b.badDataRow]),
        figures: { reasons: b.reasons, kernelMessage: b.kernelMessage, kernelRefused: b.badDataRow >= 0, blockBytesChecked: this.blockBytes },
      };
    });
  }
}

export const mappingInvalidRule: RuleInfo = {
  id: 'mapping-invalid',
  title: 'a BEGIN reply that breaks the kernel\'s mapping rules; the kernel\'s iomap_bad_data (EFSCORRUPTED)',
  create: (s: CheckSettings) => new MappingInvalidChecker(s['mapping-invalid'].blockBytes),
};
