// The ftrace text importer's public entry (trace_pipe, tracefs `trace`, `trace-cmd report`); the
// parser is split by job in ftrace/ (header, body cursor and field readers, per-system
// tracepoint tables, syscalls, deferral). See ftrace/parser.ts for the flow.
export { FtraceParser, MAX_FTRACE_LINE_BYTES } from './ftrace/parser.ts';
