// An event's `format` description as the kernel prints it in tracefs (events/<sys>/<name>/format) and
// trace.dat stores it: `name:`, `ID:`, one `field:<decl>; offset:N; size:N; signed:N;` line per field,
// `print fmt: "…", args`. Records are decoded by these offsets and sizes only, never by a guessed layout.

export interface FieldFormat {
  readonly name: string;
  /** The C declaration before the name (`unsigned int`, `__data_loc char[]`, `char`). */
  readonly type: string;
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
  /** `__data_loc`: the field is a u32 (length << 16 | offset); `__rel_loc`: offset from the field's end. */
  readonly loc: 'data' | 'rel' | null;
  /** A fixed array (`char comm[16]`): elements of size / count bytes. */
  readonly arrayCount: number;
  /** char arrays and `__data_loc char[]` are strings. */
  readonly isString: boolean;
}

export interface EventFormat {
  readonly id: number;
  readonly system: string;
  readonly name: string;
  readonly fields: FieldFormat[];
  /** The `print fmt:` text after the colon, untouched (printfmt.ts compiles it). */
  readonly printFmt: string;
}

const FIELD = /^\s*field:(.*?);\s*offset:(\d+);\s*size:(\d+);(?:\s*signed:(\d+);)?/;

/** Parses one format text; null when it has no `ID:` (not an event format). */
export function parseEventFormat(text: string, system: string): EventFormat | null {
  let name = '';
  let id = -1;
  let printFmt = '';
  const fields: FieldFormat[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('name:')) name = line.slice(5).trim();
    else if (line.startsWith('ID:')) id = Number(line.slice(3).trim());
    else if (line.startsWith('print fmt:')) printFmt = line.slice(10).trim();
    else {
      const m = FIELD.exec(line);
      if (m) fields.push(parseField(m[1]!, Number(m[2]), Number(m[3]), m[4] === '1'));
    }
  }
  if (!Number.isInteger(id) || id < 0) return null;
  return { id, system, name, fields, printFmt };
}

function parseField(decl: string, offset: number, size: number, signed: boolean): FieldFormat {
  decl = decl.trim();
  let loc: FieldFormat['loc'] = null;
  if (decl.startsWith('__data_loc ')) loc = 'data';
  else if (decl.startsWith('__rel_loc ')) loc = 'rel';
  let arrayCount = 0;
  const arr = /\[(\d*)\]\s*$/.exec(decl);
  let head = decl;
  if (arr) {
    head = decl.slice(0, arr.index).trim();
    arrayCount = arr[1] === '' ? 0 : Number(arr[1]);
  }
  const sp = head.search(/[\w]+$/);
  const name = sp >= 0 ? head.slice(sp) : head;
  const type = (sp >= 0 ? head.slice(0, sp) : '').trim().replace(/^__(?:data|rel)_loc\s+/, '');
  const isString = /\bchar$/.test(type.replace(/\s*\[\]$/, '').replace(/^(?:unsigned|signed|const)\s+/, '')) && (arr !== null || loc !== null);
  return { name, type, offset, size, signed, loc, arrayCount, isString };
}

/** Where a `__data_loc`/`__rel_loc` field's bytes are: [start, end) within the record. */
export function locRange(view: DataView, base: number, f: FieldFormat, little: boolean): [number, number] {
  const v = view.getUint32(base + f.offset, little);
  let start = v & 0xffff;
  if (f.loc === 'rel') start += f.offset + f.size;
  return [start, start + (v >>> 16)];
}
