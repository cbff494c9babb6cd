// Interned strings: each distinct string gets a dense u32 id, in first-seen order. Id 0 is always
// the empty string so a zero-filled column reads as "". The wire sends only strings a client has
// not seen yet (ids >= what it already has), so tables on both ends stay identical.

export class StringTable {
  private readonly ids = new Map<string, number>();
  private readonly values: string[] = [];

  constructor() {
    this.intern('');
  }

  intern(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.ids.set(value, id);
    }
    return id;
  }

  /** The string for an id; throws on an id the table never issued (a corrupt batch or store bug). */
  get(id: number): string {
    const value = this.values[id];
    if (value === undefined) throw new RangeError(`string id ${id} not in table of ${this.values.length}`);
    return value;
  }

  /** Id of `value` if interned, else -1 (for filters: an unknown string matches nothing). */
  find(value: string): number {
    return this.ids.get(value) ?? -1;
  }

  get size(): number {
    return this.values.length;
  }

  /** Strings with ids in [fromId, size). */
  slice(fromId: number): string[] {
    return this.values.slice(fromId);
  }
}
