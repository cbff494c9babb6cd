#!/bin/bash
# Captures fixtures/real/perf/: `perf record` of lock contention (with call chains), ext4's upstream
# iomap:* steps and dd's write syscalls, around concurrent dd writers (buffered and O_DIRECT) to one
# file on ext4 on a loop device; then `perf script` in several field layouts and `perf lock
# contention` in every mode this perf has. perf writes `perf lock` tables to stderr: they are taken
# from there (its verbose chatter kept where -v prints it, as a user's `2>&1` would).
#   script.txt         perf script (default fields; call chains as perf prints them)
#   script-pidtid.txt  perf script -F comm,pid,tid,cpu,time,event,trace --ns -G (no call chains, pid/tid, ns)
#   script-nocpu.txt   perf script -F tid,time,event,trace -G (no comm, no cpu)
#   contention*.txt    perf lock contention [-t | -v | -E 2 | -k wait_max -F ...]
# Usage (root): scripts/capture/perf-lock.sh OUTDIR
set -u
OUT=$(realpath "${1:?OUTDIR}")
W=$(mktemp -d /tmp/fsperf.XXXXXX)
LOOP=
cleanup() {
  set +e
  mountpoint -q $W/mnt && umount $W/mnt
  [ -n "$LOOP" ] && losetup -d $LOOP
  rm -rf $W
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir -p $W/mnt "$OUT"
cat > $W/work.sh <<'WL'
M=$1
export LC_ALL=C
dd if=/dev/zero of=$M/f bs=64k count=4 oflag=direct status=none
dd if=/dev/zero of=$M/f bs=1M count=4 conv=notrunc status=none &
dd if=/dev/zero of=$M/f bs=1M count=4 conv=notrunc status=none &
dd if=/dev/zero of=$M/f bs=1M count=4 conv=notrunc status=none &
dd if=/dev/zero of=$M/f bs=64k count=8 seek=64 conv=notrunc oflag=direct status=none &
wait
WL
PERFV=$(perf version 2>&1)
for TRY in 1 2 3 4 5 6 7 8; do
  truncate -s 64M $W/fs.img
  LOOP=$(losetup -f --show $W/fs.img)
  mkfs.ext4 -q -F $LOOP
  mount $LOOP $W/mnt
  # -e iomap:* with -a would take every fs: the workload only (children inherit the counters).
  perf record -q -g -o $W/perf.data -e lock:contention_begin,lock:contention_end -e 'iomap:*' \
    -e syscalls:sys_enter_pwrite64,syscalls:sys_exit_pwrite64,syscalls:sys_enter_write,syscalls:sys_exit_write \
    -- sh $W/work.sh $W/mnt 2>/dev/null
  umount $W/mnt; losetup -d $LOOP; LOOP=; rm -f $W/fs.img
  N=$(perf script -i $W/perf.data -F event 2>/dev/null | grep -c contention_begin)
  [ "$N" -ge 3 ] && break
done
HDR="# fusescope fixture, captured $(date +%F) on Linux $(uname -r) ($(nproc) vCPU), $PERFV, by scripts/capture/perf-lock.sh (run $TRY).
# ext4 (mkfs.ext4 defaults) on a 64 MiB loop device; workload 'sh W MNT' (three buffered and one O_DIRECT dd
# writer on one file after an allocating O_DIRECT write):
$(sed 's/^/#   /' $W/work.sh)
# perf record -g -e lock:contention_begin,lock:contention_end -e 'iomap:*'
#   -e syscalls:sys_enter_pwrite64,syscalls:sys_exit_pwrite64,syscalls:sys_enter_write,syscalls:sys_exit_write -- sh W MNT"
# Only the first 20 write syscalls' events are kept in the script fixtures (every other event: whole).
trim() { awk 'BEGIN{RS="";ORS="\n\n"} /sys_(enter|exit)_write/ { if (++n > 40) next } { print }'; }
{ echo "$HDR"; echo "# then: perf script   (default fields; blocks of up to 40 write syscall events beyond the first 40 dropped)"
  perf script -i $W/perf.data 2>/dev/null | trim; } > "$OUT/script.txt"
{ echo "$HDR"; echo "# then: perf script -F comm,pid,tid,cpu,time,event,trace --ns -G   (write syscalls beyond the first 40 dropped)"
  perf script -i $W/perf.data -F comm,pid,tid,cpu,time,event,trace --ns -G 2>/dev/null | awk '/sys_(enter|exit)_write/ { if (++n > 40) next } { print }'; } > "$OUT/script-pidtid.txt"
{ echo "$HDR"; echo "# then: perf script -F tid,time,event,trace -G   (write syscalls beyond the first 40 dropped)"
  perf script -i $W/perf.data -F tid,time,event,trace -G 2>/dev/null | awk '/sys_(enter|exit)_write/ { if (++n > 40) next } { print }'; } > "$OUT/script-nocpu.txt"
for mode in "" "-t" "-v" "-E 1" "-k wait_max -F contended,wait_total,wait_max,wait_min"; do
  name=contention$(echo "$mode" | sed 's/-k wait_max -F.*/-fields/; s/ //g; s/^-/-/')
  { echo "$HDR"; echo "# then: perf lock contention -i perf.data $mode 2>&1   (perf prints its table on stderr)"
    perf lock contention -i $W/perf.data $mode 2>&1; } > "$OUT/$name.txt"
done
wc -c "$OUT"/*
