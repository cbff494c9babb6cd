// fusescope NDJSON: the simulator's file output (until the recording format exists) and a
// readable interchange. Line 1 is a header, every further line one event:
//   {"format":"fusescope-ndjson","schemaVersion":1,"originNs":"0","source":"sim:…"}
//   {"kind":"fuse_send","tsNs":1200,"task":"writer-a/1001","unique":2,"opcode":4094,…}
// u64 fields (mapAddr, newAddr, lockAddr) are hex strings ("0xffffffffffffffff") because JSON
// numbers lose precision past 2^53. Fields are written in the schema's canonical order, so the
// same events always give the same bytes.
//
// The parser is incremental (push chunks, then end) and never throws on bad input: each bad line
// becomes a counted diagnostic naming file:line, and parsing goes on.

import { ADDED_FIELDS, ENUMS, FIELD_TYPES, KINDS, KIND_FIELDS, SCHEMA_VERSION, isEventKind, type FieldName, type TraceEvent } from '../schema.ts';
import { columnKeys, columnOf } from '../columns.ts';
import type { TraceStore } from '../store.ts';
import { DiagSink } from './diagnostics.ts';
import { LineFramer, type LineSink } from './framing.ts';
import { Line } from './line.ts';

const NDJSON_FORMAT = 'fusescope-ndjson';

interface NdjsonHeader {
  format: typeof NDJSON_FORMAT;
  schemaVersion: number;
  /** Decimal string: absolute ns of tsNs = 0. */
  originNs: string;
  source: string;
  /**
   * Optional: the clock tsNs are on (`ftrace-ns`, `ftrace-counter`, `sim:<source>`, or any name);
   * files on different clocks are not compared (src/trace/import/clock.ts). Readers ignore it if absent.
   */
  clock?: string;
}

export function headerLine(header: Omit<NdjsonHeader, 'format' | 'schemaVersion'>): string {
  return JSON.stringify({ format: NDJSON_FORMAT, schemaVersion: SCHEMA_VERSION, ...header });
}

export function eventLine(ev: TraceEvent): string {
  const rec = ev as unknown as Record<string, unknown>;
  let out = `{"kind":"${ev.kind}","tsNs":${ev.tsNs}`;
  for (const field of KIND_FIELDS[ev.kind] as readonly FieldName[]) {
    const v = rec[field];
    out += `,"${field}":${typeof v === 'bigint' ? `"0x${v.toString(16)}"` : JSON.stringify(v)}`;
  }
  return out + '}';
}

const enum Write { Num, Str, Bool, Enum, U64 }
/** Per kind code: each field's `,"name":` prefix, how its value is written, and its column(s). */
interface RowField { prefix: string; how: Write; column: number; loCol: number; names: readonly string[] | null }
const ROW_PLANS: readonly (readonly RowField[])[] = KINDS.map((kind) => (KIND_FIELDS[kind] as readonly FieldName[]).map((field) => {
  const type = FIELD_TYPES[field];
  const keys = columnKeys(field);
  const names = Object.hasOwn(ENUMS, type) ? (ENUMS[type as keyof typeof ENUMS] as readonly string[]) : null;
  const how = type === 'u64' ? Write.U64 : type === 'str' ? Write.Str : type === 'bool' ? Write.Bool : names ? Write.Enum : Write.Num;
  return { prefix: `,"${field}":`, how, column: columnOf(keys[0]!), loCol: keys.length > 1 ? columnOf(keys[1]!) : -1, names };
}));

/** A u64 stored as two u32 halves, as eventLine prints a bigint: lower-case hex without leading zeros. */
function hex64(hi: number, lo: number): string {
  return hi === 0 ? lo.toString(16) : hi.toString(16) + lo.toString(16).padStart(8, '0');
}

/**
 * Row `row` of `store` as an event line, read from its columns: the same bytes as
 * eventLine(store.get(row)) without building the event object (`fusescope import` writes a whole
 * store this way).
 */
export function rowLine(store: TraceStore, row: number): string {
  const code = store.kinds[row]!;
  let out = `{"kind":"${KINDS[code]!}","tsNs":${store.tsNs[row]!}`;
  for (const f of ROW_PLANS[code]!) {
    const v = store.colAt(f.column)[row]!;
    switch (f.how) {
      case Write.Num: out += f.prefix + (Number.isFinite(v) ? String(v) : 'null'); break;
      case Write.Str: out += f.prefix + JSON.stringify(store.strings.get(v)); break;
      case Write.Bool: out += f.prefix + (v !== 0 ? 'true' : 'false'); break;
      case Write.Enum: out += f.prefix + JSON.stringify(f.names![v]); break;
      case Write.U64: out += `${f.prefix}"0x${hex64(v, store.colAt(f.loCol)[row]!)}"`; break;
    }
  }
  return out + '}';
}

/** Rows [from, to) as NDJSON event lines, each ending in '\n'. */
export function rowLines(store: TraceStore, from: number, to: number): string {
  let out = '';
  for (let row = from; row < to; row++) out += rowLine(store, row) + '\n';
  return out;
}

/** Lines longer than this are reported, not parsed (a hostile file must not exhaust memory). */
const MAX_LINE_BYTES = 1 << 20;

export class NdjsonParser implements LineSink {
  header: NdjsonHeader | null = null;
  private readonly current = new Line();
  private readonly framer = new LineFramer(this.current, this, MAX_LINE_BYTES);

  constructor(
    private readonly sourceName: string,
    private readonly onEvent: (ev: TraceEvent) => void,
    readonly diags = new DiagSink(),
  ) {}

  /** Text or UTF-8 bytes, in chunks of any size. */
  push(chunk: string | Uint8Array): void {
    this.framer.push(chunk);
  }

  end(): void {
    this.framer.end();
    if (this.header === null && this.current.lineNo === 0) this.diag(0, 'empty', 'file is empty');
  }

  /** @internal (LineFramer) */
  onLine(): void {
    const line = this.current;
    this.line(line.text(), line.lineNo, line.unterminated);
  }

  /** @internal (LineFramer) */
  lineTooLong(lineNo: number): void {
    this.diag(lineNo, 'line_too_long', `line longer than ${MAX_LINE_BYTES} bytes skipped`);
  }

  private diag(line: number, code: string, message: string): void {
    this.diags.add({ source: this.sourceName, line, code, message });
  }

  private line(text: string, lineNo: number, isLast: boolean): void {
    if (text.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      const why = isLast ? 'truncated or malformed last line' : 'malformed JSON';
      this.diag(lineNo, 'bad_json', `${why}: ${(e as Error).message}`);
      return;
    }
    if (lineNo === 1 || (this.header === null && isHeader(obj))) {
      if (isHeader(obj)) {
        if (obj.schemaVersion > SCHEMA_VERSION) {
          this.diag(lineNo, 'newer_version', `schema version ${obj.schemaVersion} is newer than this fusescope (${SCHEMA_VERSION})`);
        }
        this.header = obj;
        return;
      }
      this.diag(lineNo, 'no_header', `first line is not a ${NDJSON_FORMAT} header`);
    }
    const ev = toEvent(obj);
    if (typeof ev === 'string') this.diag(lineNo, 'bad_event', ev);
    else this.onEvent(ev);
  }
}

function isHeader(obj: unknown): obj is NdjsonHeader {
  return typeof obj === 'object' && obj !== null && (obj as NdjsonHeader).format === NDJSON_FORMAT;
}

/** Validates one decoded JSON object as an event; returns it or a message saying what is wrong. */
export function toEvent(obj: unknown): TraceEvent | string {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return 'not a JSON object';
  const rec = obj as Record<string, unknown>;
  if (!isEventKind(rec.kind)) return `unknown kind ${JSON.stringify(rec.kind)}`;
  if (typeof rec.tsNs !== 'number' || !Number.isFinite(rec.tsNs)) return 'tsNs must be a finite number';
  const ev: Record<string, unknown> = { kind: rec.kind, tsNs: rec.tsNs };
  const added = ADDED_FIELDS[rec.kind] as Record<string, unknown> | undefined;
  for (const field of KIND_FIELDS[rec.kind] as readonly FieldName[]) {
    const v = rec[field];
    const type = FIELD_TYPES[field];
    if (v === undefined) {
      // A writer of an older schema does not know this field: it was not traced.
      if (added !== undefined && Object.hasOwn(added, field)) {
        ev[field] = added[field];
        continue;
      }
      return `${rec.kind}: missing field ${field}`;
    }
    switch (type) {
      case 'u64':
        if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{1,16}$/.test(v)) return `${field} must be a hex string like "0x1f"`;
        ev[field] = BigInt(v);
        break;
      case 'str':
        if (typeof v !== 'string') return `${field} must be a string`;
        ev[field] = v;
        break;
      case 'bool':
        if (typeof v !== 'boolean') return `${field} must be true or false`;
        ev[field] = v;
        break;
      case 'f64': case 'i32': case 'u32': case 'u16': case 'u8':
        if (typeof v !== 'number' || !Number.isFinite(v)) return `${field} must be a finite number`;
        ev[field] = v;
        break;
      default: {
        const values = ENUMS[type] as readonly string[];
        if (typeof v !== 'string' || !values.includes(v)) return `${field} must be one of ${values.join(', ')}`;
        ev[field] = v;
      }
    }
  }
  return ev as unknown as TraceEvent;
}
