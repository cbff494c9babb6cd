// The .fscope recording format: see docs/recording-format.md.
export * from './format.ts';
export { crc32 } from './crc32.ts';
export { RecordingEncoder, type EncoderOptions } from './encoder.ts';
export { RecordingReader, memorySource, type ByteSource, type Damage, type ReadStats } from './reader.ts';
