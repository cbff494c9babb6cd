#!/bin/bash
# Captures the user stacks ftrace records with options/userstacktrace (an ftrace user_stack record after
# each traced event, the task's user-space return addresses), in the three forms a user may bring:
#   fixtures/trace-dat/user-stack.v7-zstd.dat and its `trace-cmd report -t` text (`user_stack:` with
#     one `\t=> 0x…` line per slot, zeros included),
#   fixtures/ftrace/user-stack.trace.txt: the kernel's own text (tracefs `trace` of an instance:
#     `<user stack trace>` then ` =>  <00007f…>` lines, up to the first empty slot).
# The workload: three `perl -e getppid()` (one sys_enter_getppid each). Frames are addresses: with
# glibc built without frame pointers the kernel's user unwinder finds one or two.
# Usage (root, trace-cmd): scripts/capture/user-stack.sh OUTDIR (fixtures/ to refresh the committed ones)
set -u
. "$(dirname "$0")/lib.sh"
OUT=$(realpath "${1:?OUTDIR}")
W=$(mktemp -d /tmp/fscap.XXXXXX)
I=$T/instances/fsc-ustack
OLD_USTACK=
cleanup() {
  set +e
  [ -d $I ] && { echo 0 > $I/tracing_on; echo 0 > $I/events/enable; rmdir $I; }
  [ -n "$OLD_USTACK" ] && echo $OLD_USTACK > $T/options/userstacktrace
  tracefs_restore
  rm -rf $W
}
trap cleanup EXIT
trap 'exit 1' INT TERM
tracefs_save
OLD_USTACK=$(cat $T/options/userstacktrace)
mkdir -p "$OUT/trace-dat" "$OUT/ftrace"
cat > $W/work.sh <<'EOS'
for i in 1 2 3; do perl -e 'getppid()'; done
EOS
tracecmd_record user-stack.v7-zstd $W/work.sh "-O userstacktrace" -e syscalls:sys_enter_getppid
mv "$OUT/user-stack.v7-zstd.dat" "$OUT/user-stack.v7-zstd.report.txt" "$OUT/trace-dat/"
# The kernel's text, from an instance so the top buffer's settings stay as they were.
mkdir $I
echo 1 > $I/options/userstacktrace
echo 1 > $I/events/syscalls/sys_enter_getppid/enable
echo 1 > $I/tracing_on
sh $W/work.sh
echo 0 > $I/tracing_on
{ echo "# tracefs trace (instance, options/userstacktrace, syscalls:sys_enter_getppid): made by scripts/capture/$(basename "$0")"
  grep -v '^#' $I/trace; } > "$OUT/ftrace/user-stack.trace.txt"
wc -c "$OUT/trace-dat/user-stack.v7-zstd.dat" "$OUT/ftrace/user-stack.trace.txt"
