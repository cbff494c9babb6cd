#!/usr/bin/env node
// A minimal fusescope instrumentation client (docs/instrumentation.md): plain Node, no
// dependencies. It pretends to be a fuse-iomap server answering one lookup and a few writes, and
// streams what such a server knows about its own upcalls to `fusescope serve --instrument …`.
//
//   fusescope serve --instrument /tmp/fusescope.sock     then   node scripts/instrument-example.mjs /tmp/fusescope.sock
//   fusescope serve --instrument 7700                    then   FUSESCOPE_INSTRUMENT_TOKEN=<printed token> node scripts/instrument-example.mjs 7700
//
// The protocol in four rules:
//   1. one JSON object per line ('\n'-terminated, UTF-8, ≤ 64 KiB);
//   2. the first line is the hello: {"fusescope":"instrument","version":1,"server":NAME,"pid":PID};
//      on a TCP port it also carries "token": the per-run token serve printed (else it is refused);
//   3. every further line is a fusescope event (docs/trace-format.md): "kind", "tsNs", "task" and
//      the kind's fields; 64-bit addresses (mapAddr, newAddr) as hex strings "0x…" (a hole's
//      mapAddr is the null address "0xffffffffffffffff");
//   4. tsNs is your clock in ns (CLOCK_MONOTONIC, or ns since you started); fusescope maps it to
//      its own, keeping your spacing. fusescope never writes back.
// A bad line costs a diagnostic in the browser, never the connection. On TCP a connection silent
// for 60 s is closed: an idle sender writes an empty line now and then.

import { createConnection } from 'node:net';

const target = process.argv[2];
const countArg = process.argv.indexOf('--count');
const writes = countArg > 0 ? Number(process.argv[countArg + 1]) : 5;
const tokenArg = process.argv.indexOf('--token');
const token = tokenArg > 0 ? process.argv[tokenArg + 1] : process.env.FUSESCOPE_INSTRUMENT_TOKEN;
if (!target) {
  process.stderr.write('usage: instrument-example.mjs PATH|PORT [--count N] [--token T (or FUSESCOPE_INSTRUMENT_TOKEN)]\n');
  process.exit(2);
}

// Opcodes and codes from the fuse-iomap series (src/trace/fuse-proto.ts).
const FUSE_LOOKUP = 1;
const FUSE_IOMAP_BEGIN = 4094;
const FUSE_IOMAP_END = 4095;
const FUSE_IOMAP_IOEND = 4093;
const FUSE_NOTIFY_IOMAP_UPSERT = 100; // v7 numbering
const IOMAP_TYPE_UNWRITTEN = 3;
const FUSE_IOMAP_OP_WRITE = 1 << 0;

const t0 = process.hrtime.bigint();
/** ns since this process started; CLOCK_MONOTONIC ns would do as well (< 2^53 for ~104 days). */
const nowNs = () => Number(process.hrtime.bigint() - t0);

const socket = /^\d+$/.test(target) ? createConnection(Number(target), '127.0.0.1') : createConnection(target);
socket.on('error', (err) => {
  process.stderr.write(`instrument-example: ${err.message}\n`);
  process.exit(1);
});

/** One event per line. A real server should write without blocking its fuse threads (and drop on EAGAIN). */
const send = (obj) => socket.write(JSON.stringify(obj) + '\n');

socket.on('connect', () => {
  send({ fusescope: 'instrument', version: 1, server: 'example-fs', pid: process.pid, ...(token ? { token } : {}) });
  const task = `example-fs/${process.pid}`;
  let unique = 2;

  // A lookup: the request, the binding it created (path → nodeid → ino) and the reply.
  const nodeId = 7;
  const ino = 12;
  send({ kind: 'fuse_recv', tsNs: nowNs(), task, unique, opcode: FUSE_LOOKUP, nodeId: 1 });
  send({ kind: 'inode_lookup', tsNs: nowNs(), task, nodeId, ino, path: '/data/file', nlookup: 1 });
  send({ kind: 'fuse_reply', tsNs: nowNs(), task, unique, opcode: FUSE_LOOKUP, error: 0, lenBytes: 144 });
  unique += 2;

  for (let i = 0; i < writes; i++) {
    const posBytes = i * 4096;
    const addr = `0x${(0x100000 + posBytes).toString(16)}`;
    // IOMAP_BEGIN: the request and the write mapping this server answered with.
    send({ kind: 'fuse_recv', tsNs: nowNs(), task, unique, opcode: FUSE_IOMAP_BEGIN, nodeId });
    send({
      kind: 'iomap_map', tsNs: nowNs(), task, nodeId, ino, slot: 'write', source: 'reply',
      mapType: IOMAP_TYPE_UNWRITTEN, mapFlags: 0, mapOffsetBytes: posBytes, mapLenBytes: 4096, mapAddr: addr, mapDev: 0, cookie: i + 1,
    });
    send({ kind: 'fuse_reply', tsNs: nowNs(), task, unique, opcode: FUSE_IOMAP_BEGIN, error: 0, lenBytes: 80 });
    unique += 2;
    // IOMAP_END: what the kernel says it wrote.
    send({ kind: 'fuse_recv', tsNs: nowNs(), task, unique, opcode: FUSE_IOMAP_END, nodeId });
    send({
      kind: 'iomap_end', tsNs: nowNs(), task, nodeId, ino, opflags: FUSE_IOMAP_OP_WRITE, posBytes, lenBytes: 4096, writtenBytes: 4096,
      mapType: IOMAP_TYPE_UNWRITTEN, mapFlags: 0, mapOffsetBytes: posBytes, mapLenBytes: 4096, mapAddr: addr, mapDev: 0,
    });
    send({ kind: 'fuse_reply', tsNs: nowNs(), task, unique, opcode: FUSE_IOMAP_END, error: 0, lenBytes: 16 });
    unique += 2;
    // IOMAP_IOEND: writeback finished; the server converts the extent and pushes the new mapping.
    send({ kind: 'fuse_recv', tsNs: nowNs(), task, unique, opcode: FUSE_IOMAP_IOEND, nodeId });
    send({ kind: 'fuse_reply', tsNs: nowNs(), task, unique, opcode: FUSE_IOMAP_IOEND, error: 0, lenBytes: 24 });
    send({ kind: 'fuse_notify', tsNs: nowNs(), task, notifyCode: FUSE_NOTIFY_IOMAP_UPSERT, nodeId, error: 0 });
    unique += 2;
  }
  socket.end();
});
