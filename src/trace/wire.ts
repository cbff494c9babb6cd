// The websocket wire protocol, version WIRE_VERSION.
//
// Server → browser:
//   binary frames: event batches, columnar (below), many events per frame;
//   text frames:   JSON ServerMessage (hello, viewer, state, reset, error, capture).
// Browser → server: text frames, JSON ClientMessage, validated by parseClientMessage; anything
// else gets an `error` reply and the connection carries on.
//
// Batch layout (little-endian; every section starts 8-byte aligned):
//   0  u32 magic 'FSCB'        4 u16 wireVersion     6 u16 schemaVersion
//   8  u32 rowCount           12 u32 firstStringId  16 u32 newStringCount   20 u32 columnCount
//   24 strings: newStringCount × (u32 byteLength, utf8 bytes), padded to 8
//      kinds: rowCount × u8, padded to 8
//      tsNs:  rowCount × f64
//      columns: columnCount × (u16 code, u8 part, u8 elementType, u32 0,
//               rowCount × element of elementType, padded to 8)
// v3: a column is a storage column (columns.ts: fields of different kinds share one), code = its
// index in the layout, part 0; the columns are the table COLUMN_LAYOUT of this wire and schema version.
// elementType (v2, v3): 1 u8, 2 u16, 3 u32, 4 f64, 5 i8, 6 i16, 7 i32 — the narrowest type that
// holds this batch's values; a column that is all zeros in the batch is left out.
// v1 and v2 columns are per field (code = field code, part 0 whole, 1 hi, 2 lo of a u64), zero
// where a kind lacks the field; v1 elementType 0 means the schema's storage type. Both are still
// decoded (into columns), since recordings written before v3 hold them.
// String ids in `str` columns refer to the connection's string table; a batch carries exactly
// the strings the receiver has not seen (ids firstStringId…), so both tables stay identical.

import { FIELDS, FIELD_TYPES, KINDS, SCHEMA_VERSION, SCHEMA_VERSION_MIN, type FieldName } from './schema.ts';
import { COLUMN_COUNT, COLUMN_IS_STR, COLUMN_KEYS } from './columns.ts';
import {
  COLUMN_TYPES, ID_COLUMN_TYPES, allocColumn, narrowestType, rangeOf, columnsFromKeyColumns,
  type Column, type ColumnCtor, type TraceStore,
} from './store.ts';

export const WIRE_VERSION = 3;
/** Oldest batch version decodeBatch still reads. */
export const WIRE_VERSION_MIN = 1;
const ELEMENT_TYPES: readonly (ColumnCtor | null)[] = [null, Uint8Array, Uint16Array, Uint32Array, Float64Array, Int8Array, Int16Array, Int32Array];
/** A batch's first four bytes, little-endian: 'FSCB'. */
export const BATCH_MAGIC = 0x42435346;
const HEADER_BYTES = 24;

interface DecodedBatch {
  rowCount: number;
  firstStringId: number;
  strings: string[];
  kinds: Uint8Array;
  tsNs: Float64Array;
  /** By column (columns.ts). */
  columns: Map<number, Column>;
}

export class WireError extends Error {
  constructor(message: string, readonly offsetBytes: number) {
    super(`${message} (at byte ${offsetBytes})`);
  }
}

const pad8 = (n: number): number => (n + 7) & ~7;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function partKey(field: FieldName, part: number): string {
  return part === 0 ? field : `${field}${part === 1 ? 'Hi' : 'Lo'}`;
}

/**
 * Encodes rows [fromRow, toRow) of `store`, with the strings whose ids are >= `knownStrings`
 * (what the receiver already has). Returns the frame and the receiver's new string count.
 */
export function encodeBatch(
  store: TraceStore,
  fromRow: number,
  toRow: number,
  knownStrings: number,
): { frame: Uint8Array; knownStrings: number } {
  const rowCount = toRow - fromRow;
  // Id 0 is the empty string in every table, so a fresh receiver already "knows" one string.
  knownStrings = Math.max(1, knownStrings);
  const strings = store.strings.slice(knownStrings).map((s) => encoder.encode(s));
  const columns: number[] = [];
  const cols: Column[] = [];
  const types: ColumnCtor[] = [];
  for (const column of store.columnsInUse()) {
    const c = store.colAt(column);
    const type = narrowest(c, fromRow, toRow);
    if (type === null) continue; // all zeros in these rows
    columns.push(column);
    cols.push(c);
    types.push(type);
  }
  let size = HEADER_BYTES;
  for (const s of strings) size += 4 + s.byteLength;
  size = pad8(size) + pad8(rowCount) + rowCount * 8;
  for (const t of types) size += 8 + pad8(rowCount * (t as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT);

  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, BATCH_MAGIC, true);
  dv.setUint16(4, WIRE_VERSION, true);
  dv.setUint16(6, SCHEMA_VERSION, true);
  dv.setUint32(8, rowCount, true);
  dv.setUint32(12, knownStrings, true);
  dv.setUint32(16, strings.length, true);
  dv.setUint32(20, columns.length, true);
  let at = HEADER_BYTES;
  for (const s of strings) {
    dv.setUint32(at, s.byteLength, true);
    buf.set(s, at + 4);
    at += 4 + s.byteLength;
  }
  at = pad8(at);
  buf.set(store.kinds.subarray(fromRow, toRow), at);
  at += pad8(rowCount);
  new Float64Array(buf.buffer, at, rowCount).set(store.tsNs.subarray(fromRow, toRow));
  at += rowCount * 8;
  columns.forEach((column, i) => {
    const type = types[i]!;
    dv.setUint16(at, column, true);
    dv.setUint8(at + 2, 0);
    dv.setUint8(at + 3, ELEMENT_TYPES.indexOf(type));
    at += 8;
    const out = new (type as unknown as new (b: ArrayBuffer, offset: number, length: number) => Column)(buf.buffer, at, rowCount);
    out.set(cols[i]!.subarray(fromRow, toRow) as never);
    at += pad8(out.byteLength);
  });
  return { frame: buf, knownStrings: store.strings.size };
}


/**
 * The narrowest type holding rows [from, to) of `col` exactly, or null if all are 0. One pass:
 * the range of values and whether any is fractional decide it.
 */
function narrowest(col: Column, from: number, to: number): ColumnCtor | null {
  const { min, max, integral } = rangeOf(col, from, to);
  if (min === 0 && max === 0 && integral) return null;
  return narrowestType(min, max, integral);
}

/** Decodes a batch frame; throws WireError naming the byte offset of anything malformed. */
export function decodeBatch(frame: Uint8Array): DecodedBatch {
  if (frame.byteLength < HEADER_BYTES) throw new WireError(`batch shorter than its ${HEADER_BYTES}-byte header`, 0);
  // Sections are 8-byte aligned within the frame, so with an aligned frame the columns are views
  // into it (no copy: the store copies them on append); otherwise copy once to align.
  const buf = frame.byteOffset % 8 === 0 ? frame : frame.slice();
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) !== BATCH_MAGIC) throw new WireError('not a fusescope batch (bad magic)', 0);
  const wireVersion = dv.getUint16(4, true);
  if (wireVersion < WIRE_VERSION_MIN || wireVersion > WIRE_VERSION) {
    throw new WireError(`wire version ${wireVersion}, expected ${WIRE_VERSION_MIN}–${WIRE_VERSION}`, 4);
  }
  const schemaVersion = dv.getUint16(6, true);
  // Schema changes are append-only (kinds, fields, enum values), so an older schema's rows read as they are.
  if (schemaVersion < SCHEMA_VERSION_MIN || schemaVersion > SCHEMA_VERSION) {
    throw new WireError(`schema version ${schemaVersion}, expected ${SCHEMA_VERSION_MIN}–${SCHEMA_VERSION}`, 6);
  }
  const rowCount = dv.getUint32(8, true);
  const firstStringId = dv.getUint32(12, true);
  const stringCount = dv.getUint32(16, true);
  const columnCount = dv.getUint32(20, true);
  const end = buf.byteLength;
  const need = (at: number, bytes: number, what: string): void => {
    if (at + bytes > end) throw new WireError(`truncated ${what}: need ${bytes} bytes, ${end - at} left`, at);
  };
  let at = HEADER_BYTES;
  const strings: string[] = [];
  for (let i = 0; i < stringCount; i++) {
    need(at, 4, 'string length');
    const len = dv.getUint32(at, true);
    need(at + 4, len, `string ${i}`);
    try {
      strings.push(decoder.decode(buf.subarray(at + 4, at + 4 + len)));
    } catch {
      throw new WireError(`string ${i} is not valid UTF-8`, at + 4);
    }
    at += 4 + len;
  }
  at = pad8(at);
  need(at, rowCount, 'kinds');
  const kinds = buf.slice(at, at + rowCount);
  for (let i = 0; i < rowCount; i++) {
    if (kinds[i]! >= KINDS.length) throw new WireError(`row ${i}: unknown event kind code ${kinds[i]}`, at + i);
  }
  at += pad8(rowCount);
  need(at, rowCount * 8, 'tsNs');
  const tsNs = new Float64Array(buf.buffer, buf.byteOffset + at, rowCount);
  at += rowCount * 8;
  const cols = new Map<number, Column>();
  const keyCols = new Map<string, Column>(); // v1, v2
  for (let i = 0; i < columnCount; i++) {
    need(at, 8, 'column header');
    const code = dv.getUint16(at, true);
    const part = dv.getUint8(at + 2);
    const elementType = dv.getUint8(at + 3);
    let Ctor: ColumnCtor;
    let name: string;
    if (wireVersion >= 3) {
      if (code >= COLUMN_COUNT) throw new WireError(`unknown column ${code}`, at);
      if (part !== 0) throw new WireError(`bad part ${part} for column ${code}`, at + 2);
      if (cols.has(code)) throw new WireError(`column ${code} given twice`, at);
      const t = ELEMENT_TYPES[elementType];
      // A string id is never signed or a float.
      if (!t || !(COLUMN_IS_STR[code] ? ID_COLUMN_TYPES : COLUMN_TYPES).includes(t)) throw new WireError(`bad element type ${elementType} for column ${code}`, at + 3);
      Ctor = t;
      name = `column ${code}`;
    } else {
      const field = FIELDS[code];
      if (field === undefined) throw new WireError(`unknown field code ${code}`, at);
      const isU64 = FIELD_TYPES[field] === 'u64';
      if (isU64 ? part !== 1 && part !== 2 : part !== 0) throw new WireError(`bad part ${part} for field ${field}`, at + 2);
      if (wireVersion === 1) Ctor = allocColumn(isU64 ? 'u32' : FIELD_TYPES[field], 0).constructor as ColumnCtor;
      else {
        const t = ELEMENT_TYPES[elementType];
        const str = FIELD_TYPES[field] === 'str';
        if (!t || !(str ? ID_COLUMN_TYPES : COLUMN_TYPES).includes(t)) throw new WireError(`bad element type ${elementType} for field ${field}`, at + 3);
        Ctor = t;
      }
      name = partKey(field, part);
    }
    at += 8;
    const bytes = rowCount * (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    need(at, bytes, `column ${name}`);
    const View = Ctor as unknown as new (b: ArrayBufferLike, offset: number, length: number) => Column;
    const col = new View(buf.buffer, buf.byteOffset + at, rowCount);
    if (wireVersion >= 3) cols.set(code, col);
    else keyCols.set(name, col);
    at += pad8(bytes);
  }
  const columns = wireVersion >= 3 ? cols : columnsFromKeyColumns(rowCount, kinds, keyCols);
  return { rowCount, firstStringId, strings, kinds, tsNs, columns };
}

/**
 * A batch's length in bytes, read from its first `filledBytes` bytes: null while they do not reach
 * the last column header yet. Lets a reader cut one inflated stream of several batches at their
 * ends (recording/joined.ts). Only the layout is read; decodeBatch still checks everything else.
 * Throws WireError on a header that is not a batch's, or a wire 1 batch (its element sizes depend
 * on the schema's field types, and no joinable recording holds one).
 */
export function batchByteLength(buf: Uint8Array, filledBytes: number): number | null {
  if (filledBytes < HEADER_BYTES) return null;
  const dv = new DataView(buf.buffer, buf.byteOffset, filledBytes);
  if (dv.getUint32(0, true) !== BATCH_MAGIC) throw new WireError('not a fusescope batch (bad magic)', 0);
  const wireVersion = dv.getUint16(4, true);
  if (wireVersion < 2 || wireVersion > WIRE_VERSION) throw new WireError(`wire version ${wireVersion}: no length walk below 2`, 4);
  const rowCount = dv.getUint32(8, true);
  const stringCount = dv.getUint32(16, true);
  const columnCount = dv.getUint32(20, true);
  let at = HEADER_BYTES;
  for (let i = 0; i < stringCount; i++) {
    if (at + 4 > filledBytes) return null;
    at += 4 + dv.getUint32(at, true);
  }
  at = pad8(at) + pad8(rowCount) + rowCount * 8;
  for (let i = 0; i < columnCount; i++) {
    if (at + 8 > filledBytes) return null;
    const t = ELEMENT_TYPES[dv.getUint8(at + 3)];
    if (!t) throw new WireError(`bad element type ${dv.getUint8(at + 3)}`, at + 3);
    at += 8 + pad8(rowCount * (t as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT);
  }
  return at;
}

/** The first string id in a batch's string-id columns that is not below `limit`, or null. */
export function badStringId(batch: Pick<DecodedBatch, 'rowCount' | 'columns'>, limit: number): { what: string; row: number; id: number } | null {
  for (const [column, col] of batch.columns) {
    if (!COLUMN_IS_STR[column]) continue;
    for (let i = 0; i < batch.rowCount; i++) {
      if (col[i]! >= limit) return { what: `column ${column} (${COLUMN_KEYS[column]!.join('/')})`, row: i, id: col[i]! };
    }
  }
  return null;
}

/** Appends a decoded batch to a store whose string table mirrors the sender's. */
export function applyBatch(store: TraceStore, batch: DecodedBatch): void {
  if (batch.firstStringId !== store.strings.size) {
    throw new WireError(`string table out of step: batch starts at id ${batch.firstStringId}, have ${store.strings.size}`, 12);
  }
  for (const s of batch.strings) store.strings.intern(s);
  const strCount = store.strings.size;
  const bad = badStringId(batch, strCount);
  if (bad) throw new WireError(`${bad.what} row ${bad.row}: string id ${bad.id} not in table`, 0);
  store.appendColumns(batch.rowCount, batch.kinds, batch.tsNs, batch.columns);
}

// ---------------------------------------------------------------------------------------------
// JSON control messages

export interface ScenarioInfo {
  name: string;
  description: string;
  /**
   * A simulator scenario's run without a mapping cache says why (the kernel-ext4 baseline, RFC v1,
   * fuse4fs noiomap_cache), so an empty cache view says "disabled", not "no events". Absent: the
   * cache is on, or the source cannot know (a capture, an instrumented server, a user scenario file).
   */
  noCacheWhy?: string;
  /** The run revalidates cache cookies (iomap_valid, §2.6); absent where the source cannot know. */
  cookieValidation?: boolean;
}
export interface SessionState {
  paused: boolean;
  /** Virtual-time multiplier on top of the scenario's pace. */
  speed: number;
  scenario: string;
  /** Virtual ns streamed per wall second at speed 1. */
  paceNsPerSec: number;
}
/** Where a page-started capture run is (`fusescope capture --allow-capture`, docs/capture.md). */
export type CapturePhase = 'idle' | 'mounting' | 'running' | 'stopping' | 'done' | 'failed';
export interface CaptureRunStatus {
  phase: CapturePhase;
  /** The run asked for (null while idle). */
  run: { workload: string; policy: string; direct: boolean; seconds: number } | null;
  /** Wall ms the workload's programs have run (from after the mount); 0 before. */
  elapsedMs: number;
  /** The run's mount point on the server's machine (null before the mount). */
  mountDir: string | null;
  /** The file the run is recorded to on the server (null: not recorded, or nothing written yet). */
  recording: string | null;
  /** Why the run failed (`failed`), or what ended it early; null otherwise. */
  reason: string | null;
}
/** What the page may start: only sent by a server started with --allow-capture. */
export interface CaptureControlInfo {
  workloads: string[];
  policies: string[];
  secondsMin: number;
  secondsMax: number;
  defaultSeconds: number;
  status: CaptureRunStatus;
}

/** One viewer's own state (per connection): its pause holds only its own stream. */
export interface ViewerState {
  paused: boolean;
}
/**
 * What the server keeps of the running source's batches for viewers that join late or pause
 * (server/hub/live-session.ts): the newest `maxBytes` of encoded batches. A viewer is sent the kept
 * history first, then the live batches, with no gap or duplicate between them.
 */
export interface HistoryInfo {
  maxBytes: number;
  /** Events of this run the server no longer kept when this viewer joined (0: it gets the whole run). */
  notKeptEvents: number;
  /** Time of the first kept event when some were not kept (the page says history before it is gone); else null. */
  keptFromNs: number | null;
  /** Whether the server records the session (so what it did not keep is in a recording); absent: it does not say. */
  recorded?: boolean;
}

/**
 * Whether the server's session recorder is writing (serve, capture; server/recorder): a file-system
 * error (a full disk, the sessions folder removed) pauses it while the live session goes on.
 */
export interface RecordingStatus {
  state: 'recording' | 'paused';
  /** The file being written, by its name in the sessions folder (null while paused or before the first batch). */
  file: string | null;
  /** Why recording paused, in words (null while recording). */
  reason: string | null;
}

export type ServerMessage =
  | {
      type: 'hello'; wireVersion: number; schemaVersion: number; originNs: string;
      source: string; scenarios: ScenarioInfo[]; state: SessionState;
      /** Present only when the page may start capture runs (--allow-capture). */
      capture?: CaptureControlInfo;
      /** This viewer's state (absent from servers before per-viewer pause). */
      viewer?: ViewerState;
      /** The history that follows this hello (absent from servers that kept none). */
      history?: HistoryInfo;
      /** The session recorder's state (absent: the server does not record, or does not say). */
      recording?: RecordingStatus;
    }
  /** This viewer's own state changed (its pause). */
  | { type: 'viewer'; viewer: ViewerState }
  /** The capture control's state changed (or a running run's time moved on): sent to every viewer. */
  | { type: 'capture'; capture: CaptureControlInfo }
  | { type: 'state'; state: SessionState }
  /** The session recorder's state changed (a new file, or paused with the reason): sent to every viewer. */
  | { type: 'recording'; recording: RecordingStatus }
  /** The stream restarts (new scenario): the client clears its store and string table. */
  | { type: 'reset'; originNs: string; state: SessionState }
  | { type: 'error'; code: string; message: string };

// `shared: true` drives the shared session (every viewer sees it): pause/resume the source, change
// its speed, switch or restart its scenario. Without it pause/resume hold only this viewer's stream,
// and speed/scenario are refused (`not_driving`): a passive viewer never changes what others see.
export type ClientMessage =
  | { type: 'pause'; shared?: boolean }
  | { type: 'resume'; shared?: boolean }
  | { type: 'speed'; value: number; shared?: boolean }
  | { type: 'scenario'; name: string; shared?: boolean }
  | { type: 'ping' }
  /** Start a workload run (only a server with --allow-capture does; the values are checked there). */
  | { type: 'capture_start'; workload: string; policy: string; direct: boolean; seconds: number }
  /** End the running run now: its programs stop, the server unmounts, what was captured stays. */
  | { type: 'capture_stop' };

const SPEED_MIN = 0.01;
const SPEED_MAX = 1000;
/** Client messages are tiny; anything larger is refused before parsing. */
export const CLIENT_MESSAGE_MAX_BYTES = 4096;

type Parsed<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

/** Validates a browser message; never throws. */
export function parseClientMessage(raw: string): Parsed<ClientMessage> {
  if (raw.length > CLIENT_MESSAGE_MAX_BYTES) {
    return { ok: false, code: 'too_large', message: `message of ${raw.length} bytes exceeds ${CLIENT_MESSAGE_MAX_BYTES}` };
  }
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch (e) {
    return { ok: false, code: 'bad_json', message: `not JSON: ${(e as Error).message}` };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return { ok: false, code: 'bad_message', message: 'expected a JSON object with a "type"' };
  }
  const m = msg as Record<string, unknown>;
  if (m.shared !== undefined && typeof m.shared !== 'boolean') {
    return { ok: false, code: 'bad_value', message: 'shared must be true or false' };
  }
  const shared = m.shared === true ? { shared: true } : {};
  switch (m.type) {
    case 'pause': case 'resume':
      return { ok: true, value: { type: m.type, ...shared } };
    case 'ping':
      return { ok: true, value: { type: m.type } };
    case 'speed': {
      const v = m.value;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < SPEED_MIN || v > SPEED_MAX) {
        return { ok: false, code: 'bad_value', message: `speed.value must be a number in [${SPEED_MIN}, ${SPEED_MAX}]` };
      }
      return { ok: true, value: { type: 'speed', value: v, ...shared } };
    }
    case 'scenario': {
      if (typeof m.name !== 'string' || m.name.length === 0 || m.name.length > 200) {
        return { ok: false, code: 'bad_value', message: 'scenario.name must be a non-empty string' };
      }
      return { ok: true, value: { type: 'scenario', name: m.name, ...shared } };
    }
    case 'capture_stop':
      if (Object.keys(m).length !== 1) return { ok: false, code: 'bad_value', message: 'capture_stop takes no fields' };
      return { ok: true, value: { type: 'capture_stop' } };
    case 'capture_start': {
      // Strict: exactly these four fields with these types; the server checks the values.
      const extra = Object.keys(m).filter((k) => !['type', 'workload', 'policy', 'direct', 'seconds'].includes(k));
      if (extra.length > 0) return { ok: false, code: 'bad_value', message: `capture_start: unknown field(s) ${extra.join(', ')}` };
      if (typeof m.workload !== 'string' || m.workload.length === 0 || m.workload.length > 100) {
        return { ok: false, code: 'bad_value', message: 'capture_start.workload must be a workload name' };
      }
      if (typeof m.policy !== 'string' || m.policy.length === 0 || m.policy.length > 100) {
        return { ok: false, code: 'bad_value', message: 'capture_start.policy must be a policy name' };
      }
      if (typeof m.direct !== 'boolean') return { ok: false, code: 'bad_value', message: 'capture_start.direct must be true or false' };
      if (typeof m.seconds !== 'number' || !Number.isFinite(m.seconds)) {
        return { ok: false, code: 'bad_value', message: 'capture_start.seconds must be a number' };
      }
      return { ok: true, value: { type: 'capture_start', workload: m.workload, policy: m.policy, direct: m.direct, seconds: m.seconds } };
    }
    default:
      return { ok: false, code: 'unknown_type', message: `unknown message type ${JSON.stringify(m.type)}` };
  }
}

const CAPTURE_PHASES: readonly string[] = ['idle', 'mounting', 'running', 'stopping', 'done', 'failed'];
function isCaptureInfo(v: unknown): v is CaptureControlInfo {
  const c = v as CaptureControlInfo | null;
  if (!c || typeof c !== 'object' || !Array.isArray(c.workloads) || !Array.isArray(c.policies)) return false;
  if (typeof c.secondsMin !== 'number' || typeof c.secondsMax !== 'number' || typeof c.defaultSeconds !== 'number') return false;
  const s = c.status as CaptureRunStatus | null;
  return !!s && typeof s === 'object' && CAPTURE_PHASES.includes(s.phase) && typeof s.elapsedMs === 'number';
}

function isSessionState(v: unknown): v is SessionState {
  const s = v as SessionState | null;
  return !!s && typeof s === 'object' && typeof s.paused === 'boolean' && typeof s.speed === 'number' &&
    typeof s.scenario === 'string' && typeof s.paceNsPerSec === 'number';
}

function isViewerState(v: unknown): v is ViewerState {
  return !!v && typeof v === 'object' && typeof (v as ViewerState).paused === 'boolean';
}

function isHistoryInfo(v: unknown): v is HistoryInfo {
  const h = v as HistoryInfo | null;
  return !!h && typeof h === 'object' && typeof h.maxBytes === 'number' && typeof h.notKeptEvents === 'number' &&
    (h.keptFromNs === null || typeof h.keptFromNs === 'number') && (h.recorded === undefined || typeof h.recorded === 'boolean');
}

function isRecordingStatus(v: unknown): v is RecordingStatus {
  const r = v as RecordingStatus | null;
  return !!r && typeof r === 'object' && (r.state === 'recording' || r.state === 'paused') &&
    (r.file === null || typeof r.file === 'string') && (r.reason === null || typeof r.reason === 'string');
}

/** Validates a server text message in the browser; never throws. */
export function parseServerMessage(raw: string): Parsed<ServerMessage> {
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch (e) {
    return { ok: false, code: 'bad_json', message: (e as Error).message };
  }
  const m = msg as Record<string, unknown> | null;
  const bad = (why: string): Parsed<ServerMessage> => ({ ok: false, code: 'bad_message', message: why });
  if (!m || typeof m !== 'object') return bad('server message is not an object');
  switch (m.type) {
    case 'hello':
      if (m.wireVersion !== WIRE_VERSION) return bad(`server speaks wire version ${String(m.wireVersion)}, this page ${WIRE_VERSION}`);
      if (typeof m.originNs !== 'string' || typeof m.source !== 'string' || !Array.isArray(m.scenarios) || !isSessionState(m.state)) {
        return bad('malformed hello');
      }
      if (m.capture !== undefined && !isCaptureInfo(m.capture)) return bad('malformed hello.capture');
      if (m.viewer !== undefined && !isViewerState(m.viewer)) return bad('malformed hello.viewer');
      if (m.history !== undefined && !isHistoryInfo(m.history)) return bad('malformed hello.history');
      if (m.recording !== undefined && !isRecordingStatus(m.recording)) return bad('malformed hello.recording');
      break;
    case 'recording':
      if (!isRecordingStatus(m.recording)) return bad('malformed recording');
      break;
    case 'viewer':
      if (!isViewerState(m.viewer)) return bad('malformed viewer');
      break;
    case 'capture':
      if (!isCaptureInfo(m.capture)) return bad('malformed capture');
      break;
    case 'state':
      if (!isSessionState(m.state)) return bad('malformed state');
      break;
    case 'reset':
      if (typeof m.originNs !== 'string' || !isSessionState(m.state)) return bad('malformed reset');
      break;
    case 'error':
      if (typeof m.code !== 'string' || typeof m.message !== 'string') return bad('malformed error');
      break;
    default:
      return bad(`unknown server message type ${JSON.stringify(m.type)}`);
  }
  return { ok: true, value: m as unknown as ServerMessage };
}
