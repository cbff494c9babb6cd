#!/bin/bash
# Captures the ext4/xfs iomap fixtures (fixtures/real/kernel-fs/): a 64 MiB loop device per fs,
# iomap:* filtered to that device's dev_t. ext4: O_DIRECT writes and reads (ext4 buffered IO does
# not use iomap on 6.18), traced through /sys/kernel/tracing/trace with irq-info OFF and no TGID.
# xfs: buffered writes + fsync (writeback → iomap_writeback_folio / iomap_add_to_ioend) and an
# O_DIRECT read, through the `trace` file with record-tgid=1 (`trace-cmd record` fails on this
# kernel: "Can't enable ftrace").
# Restores tracefs, unmounts and detaches loop devices on every exit path.
# Usage (root): scripts/capture/kernel-fs-iomap.sh OUTDIR
set -u
. "$(dirname "$0")/lib.sh"
OUT=$(realpath "${1:?OUTDIR}")
W=$(mktemp -d /tmp/fscap.XXXXXX)
LOOP=
cleanup() {
  set +e
  tracefs_restore
  mountpoint -q $W/mnt && umount $W/mnt
  [ -n "$LOOP" ] && losetup -d $LOOP
  rm -rf $W
}
trap cleanup EXIT
trap 'exit 1' INT TERM
tracefs_save
mkdir -p $W/mnt "$OUT"

devfilter() { echo "dev == $(devnum $1)"; }

# ext4, O_DIRECT, tracefs text without TGID and without irq-info flags.
truncate -s 64M $W/ext4.img
LOOP=$(losetup -f --show $W/ext4.img)
mkfs.ext4 -q -F $LOOP
mount $LOOP $W/mnt
echo 0 > $T/tracing_on; echo > $T/trace
echo 0 > $T/options/irq-info
devfilter $LOOP > $T/events/iomap/filter
echo 1 > $T/events/iomap/enable
echo 1 > $T/tracing_on
dd if=/dev/zero of=$W/mnt/f bs=64k count=4 oflag=direct status=none
fallocate -l 1M $W/mnt/g && dd if=/dev/zero of=$W/mnt/g bs=64k count=2 oflag=direct conv=notrunc status=none
dd if=$W/mnt/f of=/dev/null bs=64k count=4 iflag=direct status=none
echo 0 > $T/tracing_on
cp $T/trace "$OUT/ext4-dio.raw.txt"
echo 0 > $T/events/iomap/enable; echo 0 > $T/events/iomap/filter; echo 1 > $T/options/irq-info; echo > $T/trace
umount $W/mnt; losetup -d $LOOP; LOOP=

# xfs, buffered + fsync + O_DIRECT read, trace-cmd record/report.
truncate -s 300M $W/xfs.img
LOOP=$(losetup -f --show $W/xfs.img)
mkfs.xfs -q -f $LOOP
mount $LOOP $W/mnt
echo 0 > $T/tracing_on; echo > $T/trace
echo 1 > $T/options/record-tgid
devfilter $LOOP > $T/events/iomap/filter
echo 1 > $T/events/iomap/enable
echo 1 > $T/tracing_on
dd if=/dev/zero of=$W/mnt/f bs=64k count=4 conv=fsync status=none
dd if=$W/mnt/f of=/dev/null bs=64k count=4 iflag=direct status=none
echo 0 > $T/tracing_on
cp $T/trace "$OUT/xfs-buffered.raw.txt"
echo 0 > $T/events/iomap/enable; echo 0 > $T/events/iomap/filter; echo 0 > $T/options/record-tgid; echo > $T/trace
umount $W/mnt; losetup -d $LOOP; LOOP=
wc -c "$OUT"/*
