// trace.dat into the import pipeline: the file is read through its random-access reader and its
// records enter the pipeline as the report text they print as (records.ts), so detection, the
// ftrace parser, the passes and the clock are the ones text imports use. Adapters (CLI, browser
// worker) call this for a file whose first bytes are the magic (isTraceDat).
import type { ByteSource } from '../../recording/reader.ts';
import type { ImportPipeline } from '../pipeline.ts';
import { readTraceDat, type DatStats } from './records.ts';
import { TRACE_DAT_MAGIC } from './reader.ts';
import type { DatCodecs } from './reader.ts';

export { isTraceDat, TRACE_DAT_MAGIC, type DatCodecs } from './reader.ts';
export { readTraceDat } from './records.ts';

/** Imports one trace.dat as the pipeline's next file. `onProgress`: bytes of the file read so far (approximate). */
export async function importTraceDat(
  pipe: ImportPipeline, name: string, src: ByteSource, codecs: DatCodecs, onProgress?: (doneBytes: number) => void,
  /** 'text': every record as its report line through the text parser (what the direct path is tested against). */
  opts: { via?: 'direct' | 'text' } = {},
): Promise<DatStats> {
  // The adapter recognised it by its magic (isTraceDat): said so, as detection would have.
  const feed = pipe.open(name, 'trace-dat', {
    format: 'trace-dat', forced: false, linesScanned: 0, bytesScanned: TRACE_DAT_MAGIC.length, alternatives: [],
    evidence: { line: 1, byteOffset: 0, what: 'trace-cmd\'s trace.dat magic at byte 0', text: JSON.stringify(String.fromCharCode(...TRACE_DAT_MAGIC)).slice(1, -1) },
  });
  // Once a sixteenth of the data is read, the rows it gave foretell the whole file's: the store is
  // sized once for them instead of regrowing (each regrowth copies every column).
  let sized = false;
  const stats = await readTraceDat(src, codecs, {
    share: (done) => {
      if (!sized && done >= 1 / 16) {
        sized = true;
        feed.expectRows(done);
      }
    },
    push: (t) => { feed.push(t); },
    direct: opts.via === 'text' ? undefined : () => feed.ftraceParser(),
    diag: (d) => feed.diag(d.code, d.message),
    progress: onProgress,
  });
  feed.end();
  return stats;
}
