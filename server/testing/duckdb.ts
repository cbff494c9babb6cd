// Test helper: DuckDB (the WebAssembly build, from npm: no native download, no extension fetch)
// reading an Arrow IPC file we wrote. DuckDB's Arrow ingestion is Arrow C++'s IPC *stream* reader,
// so the file's stream part (after the 8-byte magic, through the EOS marker, before the footer)
// goes in; the footer itself is checked by apache-arrow's file reader in the tests.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as duckdb from '@duckdb/duckdb-wasm/blocking';

interface Duck {
  /** Rows as plain objects (DuckDB BIGINT/HUGEINT come back as bigint). */
  query(sql: string): Record<string, unknown>[];
  /** Loads an Arrow IPC file's record batches into a new table `name`. */
  insertArrowFile(file: Uint8Array, name: string): void;
  close(): void;
}

/** The IPC stream inside an IPC file: bytes 8 .. footer start (the writer puts EOS right before the footer). */
export function streamPartOfArrowFile(file: Uint8Array): Uint8Array {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const footerBytes = dv.getInt32(file.byteLength - 10, true);
  return file.subarray(8, file.byteLength - 10 - footerBytes);
}

export async function openDuck(): Promise<Duck> {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('@duckdb/duckdb-wasm/dist/duckdb-node-blocking.cjs'));
  const db = await duckdb.createDuckDB({
    mvp: { mainModule: join(dist, 'duckdb-mvp.wasm'), mainWorker: join(dist, 'duckdb-node-mvp.worker.cjs') },
    eh: { mainModule: join(dist, 'duckdb-eh.wasm'), mainWorker: join(dist, 'duckdb-node-eh.worker.cjs') },
  }, new duckdb.VoidLogger(), duckdb.NODE_RUNTIME);
  await db.instantiate();
  const conn = db.connect();
  return {
    query: (sql) => conn.query(sql).toArray().map((r) => r.toJSON() as Record<string, unknown>),
    insertArrowFile: (file, name) => conn.insertArrowFromIPCStream(streamPartOfArrowFile(file), { name }),
    close: () => { conn.close(); db.reset(); },
  };
}
