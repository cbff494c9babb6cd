// The .fscope recording format: see docs/recording-format.md.
export * from './format.ts';
export { RecordingReader, memorySource, type ByteSource, type ChunkRows, type StoredFindingsResult } from './reader.ts';
