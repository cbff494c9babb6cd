#!/bin/bash
# Captures the contention fixtures of fixtures/real/kernel-fs/ (ext4-mixed.*, xfs-contend.*): concurrent
# dd writers (buffered and O_DIRECT) to one file on a loop-device filesystem, traced with iomap:* (filter
# dev == the loop device's dev_t), syscalls of dd, lock:contention_begin/end (comm == dd) with a
# `stacktrace` trigger on contention_begin, and on XFS xfs:xfs_ilock/xfs_iunlock (same dev filter).
# Options for every run: trace_clock mono, hash-ptr 0 (real lock addresses).
#   ext4-mixed.report.txt  `trace-cmd record -d --no-filter --file-version 6 -C mono` + `trace-cmd report -t`
#   ext4-mixed.trace.txt   the same workload again, copied from /sys/kernel/tracing/trace (record-tgid=1,
#                          irq-info=1: the default tracefs layout with the TGID and flags columns)
#   xfs-contend.trace.txt  /sys/kernel/tracing/trace (record-tgid=1, irq-info=1), then the same ring buffer
#   xfs-contend.report.txt read by `trace-cmd extract` + `trace-cmd report` (µs): the same events twice.
# Restores tracefs (events, filters, triggers, options, clock, buffer size, tracing_on), unmounts and
# detaches loop devices on every exit path.
# Usage (root): scripts/capture/kernel-fs-contention.sh OUTDIR
set -u
. "$(dirname "$0")/lib.sh"
OUT=$(realpath "${1:?OUTDIR}")
W=$(mktemp -d /tmp/fscap.XXXXXX)
LOOP=
SYSCALLS="openat close dup dup2 dup3 read write pread64 pwrite64 fsync"

tracefs_save

event_list() {
  echo lock/contention_begin lock/contention_end xfs/xfs_ilock xfs/xfs_iunlock
  for s in $SYSCALLS; do echo syscalls/sys_enter_$s syscalls/sys_exit_$s; done
}
cleanup() {
  set +e
  tracefs_restore
  mountpoint -q $W/mnt && umount $W/mnt
  [ -n "$LOOP" ] && losetup -d $LOOP
  rm -rf $W
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir -p $W/mnt "$OUT"


# The workloads, run as "sh $W/<fs>.sh MNT" so that trace-cmd can start them; every process is dd.
cat > $W/ext4.sh <<'EOF'
M=$1
export LC_ALL=C   # no locale files: fewer openat/read/close lines
# allocating O_DIRECT writes to a new file (NEW mappings)
dd if=/dev/zero of=$M/f bs=64k count=4 oflag=direct status=none
# on the same file: three buffered writers (ext4 buffered IO has no iomap events; three writers on
# two vCPUs so that rwsem spinning gives up and contention_begin fires) and two O_DIRECT writers
# (one overwriting, one extending the file)
dd if=/dev/zero of=$M/f bs=1M count=8 seek=0 conv=notrunc status=none &
dd if=/dev/zero of=$M/f bs=1M count=8 seek=0 conv=notrunc status=none &
dd if=/dev/zero of=$M/f bs=1M count=8 seek=0 conv=notrunc status=none &
dd if=/dev/zero of=$M/f bs=64k count=16 seek=0 conv=notrunc oflag=direct status=none &
dd if=/dev/zero of=$M/f bs=64k count=16 seek=160 conv=notrunc oflag=direct status=none &
wait
# an O_DIRECT read
dd if=$M/f of=/dev/null bs=64k count=4 iflag=direct status=none
EOF
cat > $W/xfs.sh <<'EOF'
M=$1
export LC_ALL=C
# three buffered writers (one ends with fsync: writeback in dd's context) and two O_DIRECT writers,
# all on the 8 MiB file f written before tracing started
dd if=/dev/zero of=$M/f bs=1M count=4 seek=0 conv=notrunc,fsync status=none &
dd if=/dev/zero of=$M/f bs=1M count=4 seek=2 conv=notrunc status=none &
dd if=/dev/zero of=$M/f bs=1M count=4 seek=4 conv=notrunc status=none &
dd if=/dev/zero of=$M/f bs=64k count=12 seek=64 conv=notrunc oflag=direct status=none &
dd if=/dev/zero of=$M/f bs=64k count=12 seek=96 conv=notrunc oflag=direct status=none &
wait
EOF

# Contention is racy: each run is repeated (fresh fs) until it has MIN_CONTENTIONS (ext4) / MIN_XFS
# contention_begin lines, at most 8 times.
MIN_CONTENTIONS=3
MIN_XFS=6
HDR1="# fusescope fixture, captured $(date +%F) on Linux $(uname -r) ($(nproc) vCPU) by scripts/capture/kernel-fs-contention.sh."
trace_setup() { # $1 = dev_t, $2 = fs
  echo 0 > $T/tracing_on
  echo > $T/trace
  echo mono > $T/trace_clock
  echo 8192 > $T/buffer_size_kb
  echo 0 > $T/options/hash-ptr
  echo 1 > $T/options/record-tgid
  echo 1 > $T/options/irq-info
  echo "dev == $1" > $T/events/iomap/filter
  echo 1 > $T/events/iomap/enable
  for e in $(event_list); do
    case $e in xfs/*) [ "$2" = xfs ] || continue; echo "dev == $1" > $T/events/$e/filter;;
               *) echo 'comm == "dd"' > $T/events/$e/filter;; esac
    echo 1 > $T/events/$e/enable
  done
  echo "$TRIGGER" > $T/events/lock/contention_begin/trigger
}
trace_teardown() {
  echo 0 > $T/tracing_on
  echo "!$TRIGGER" > $T/events/lock/contention_begin/trigger
  echo 0 > $T/events/enable
}
fresh_fs() { # $1 = ext4|xfs: a new image on a loop device mounted at $W/mnt; sets LOOP and DEV
  if [ $1 = ext4 ]; then truncate -s 64M $W/fs.img; else truncate -s 300M $W/fs.img; fi
  LOOP=$(losetup -f --show $W/fs.img)
  if [ $1 = ext4 ]; then mkfs.ext4 -q -F $LOOP; else mkfs.xfs -q -f $LOOP; fi
  mount $LOOP $W/mnt
  DEV=$(devnum $LOOP)
}
drop_fs() { umount $W/mnt; losetup -d $LOOP; LOOP=; rm -f $W/fs.img; }
enough() { [ $(grep -c ' contention_begin: ' "$1") -ge $2 ]; }

# ---- ext4 (mkfs.ext4 defaults, 64 MiB loop device), trace-cmd record ----
for TRY in 1 2 3 4 5 6 7 8; do
  fresh_fs ext4
  echo 0 > $T/options/hash-ptr
  ARGS=(-e iomap -f "dev == $DEV"
        -e lock:contention_begin -f 'comm == "dd"' -R "$TRIGGER"
        -e lock:contention_end -f 'comm == "dd"')
  for s in $SYSCALLS; do ARGS+=(-e syscalls:sys_enter_$s -f 'comm == "dd"' -e syscalls:sys_exit_$s -f 'comm == "dd"'); done
  # trace-cmd exits 1 at cleanup ("opening to set_ftrace_filter") although the file is complete.
  trace-cmd record -d --no-filter --file-version 6 -C mono -b 8192 -q -o $W/ext4.dat "${ARGS[@]}" sh $W/ext4.sh $W/mnt 2>/dev/null
  echo 1 > $T/tracing_on
  { echo "$HDR1"
    echo "# ext4 (mkfs.ext4 defaults) on a 64 MiB loop device (dev_t $DEV = $((DEV >> 20)):$((DEV & 0xfffff))). Workload, 'sh W MNT':"
    sed 's/^/#   /' $W/ext4.sh
    echo "# trace-cmd record -d --no-filter --file-version 6 -C mono -b 8192 -e iomap -f 'dev == $DEV'"
    echo "#   -e lock:contention_begin -f 'comm == \"dd\"' -R '$TRIGGER' -e lock:contention_end -f 'comm == \"dd\"'"
    echo "#   -e syscalls:sys_{enter,exit}_{$(echo $SYSCALLS | tr ' ' ,)} -f 'comm == \"dd\"'  (options/hash-ptr=0)"
    echo "# then 'trace-cmd report -t' (trace-cmd 3.1.6: ns timestamps, kernel_stack '<stack trace >' + '=> sym (addr)')."
    echo "# Run $TRY (runs are repeated until one has >= $MIN_CONTENTIONS contention_begin)."
    trace-cmd report -t $W/ext4.dat 2>/dev/null
  } > "$OUT/ext4-mixed.report.txt"
  drop_fs
  enough "$OUT/ext4-mixed.report.txt" $MIN_CONTENTIONS && break
done

# ---- ext4 again, through the tracefs `trace` file with TGID and irq-info ----
for TRY in 1 2 3 4 5 6 7 8; do
  fresh_fs ext4
  trace_setup $DEV ext4
  echo 1 > $T/tracing_on
  sh $W/ext4.sh $W/mnt
  echo 0 > $T/tracing_on
  { echo "$HDR1"
    echo "# ext4 (mkfs.ext4 defaults) on a 64 MiB loop device (dev_t $DEV = $((DEV >> 20)):$((DEV & 0xfffff))). Workload, 'sh W MNT':"
    sed 's/^/#   /' $W/ext4.sh
    echo "# tracefs: iomap:* filter 'dev == $DEV'; lock:contention_begin/end and syscalls sys_{enter,exit}_{$(echo $SYSCALLS | tr ' ' ,)}"
    echo "# filter 'comm == \"dd\"'; contention_begin trigger '$TRIGGER'; trace_clock mono; options record-tgid=1"
    echo "# irq-info=1 hash-ptr=0. Copied from /sys/kernel/tracing/trace."
    echo "# Run $TRY (runs are repeated until one has >= $MIN_CONTENTIONS contention_begin)."
    cat $T/trace
  } > "$OUT/ext4-mixed.trace.txt"
  trace_teardown
  drop_fs
  enough "$OUT/ext4-mixed.trace.txt" $MIN_CONTENTIONS && break
done

# ---- xfs (mkfs.xfs defaults, 300 MiB loop device): tracefs `trace`, then trace-cmd extract of the same buffer ----
for TRY in 1 2 3 4 5 6 7 8; do
  fresh_fs xfs
  dd if=/dev/zero of=$W/mnt/f bs=1M count=8 conv=fsync status=none
  trace_setup $DEV xfs
  echo 1 > $T/tracing_on
  sh $W/xfs.sh $W/mnt
  echo 0 > $T/tracing_on
  XFSHDR="# xfs (mkfs.xfs defaults) on a 300 MiB loop device (dev_t $DEV = $((DEV >> 20)):$((DEV & 0xfffff))); f = 8 MiB written by
# 'dd bs=1M count=8 conv=fsync' before tracing. Workload, 'sh W MNT':
$(sed 's/^/#   /' $W/xfs.sh)
# tracefs: iomap:*, xfs:xfs_ilock, xfs:xfs_iunlock filter 'dev == $DEV'; lock:contention_begin/end and syscalls
# sys_{enter,exit}_{$(echo $SYSCALLS | tr ' ' ,)} filter 'comm == \"dd\"'; contention_begin trigger '$TRIGGER';
# trace_clock mono; options record-tgid=1 irq-info=1 hash-ptr=0.
# Run $TRY (runs are repeated until one has >= $MIN_XFS contention_begin)."
  { echo "$HDR1"
    echo "$XFSHDR"
    echo "# Copied from /sys/kernel/tracing/trace (xfs-contend.report.txt holds the same ring buffer via trace-cmd)."
    cat $T/trace
  } > "$OUT/xfs-contend.trace.txt"
  trace-cmd extract -o $W/xfs.dat > /dev/null 2>&1
  { echo "$HDR1"
    echo "$XFSHDR"
    echo "# The ring buffer of xfs-contend.trace.txt read by 'trace-cmd extract', printed by 'trace-cmd report' (trace-cmd"
    echo "# 3.1.6: µs timestamps rounded, kernel_stack '<stack trace >' + '=> sym (addr)')."
    trace-cmd report $W/xfs.dat 2>/dev/null
  } > "$OUT/xfs-contend.report.txt"
  trace_teardown
  drop_fs
  enough "$OUT/xfs-contend.trace.txt" $MIN_XFS && break
done
wc -c "$OUT"/ext4-mixed.* "$OUT"/xfs-contend.*
