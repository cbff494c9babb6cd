#!/bin/bash
# Captures the trace.dat fixtures of fixtures/trace-dat/ with `trace-cmd record` (binary, read natively
# by src/trace/import/tracedat/) and, beside each, `trace-cmd report -t` of the same file (the text
# importer's input for the equality test, with a `#` header saying how it was made):
#   ext4-dio.v6.dat       ext4 on a loop device, O_DIRECT dd writers: iomap:* (dev == the loop fs),
#                         lock:contention_* and syscalls of dd; --file-version 6 (no compression)
#   ext4-dio.v7-none.dat  the same workload again, file version 7, --compression none (this trace-cmd 3.1.6 build has no zlib: "Compression algorithm  zlib is not supported")
#   fuse2fs-hardlink.v7-zstd.dat  fuse2fs (libfuse 2) image, d1/file + hardlink d2/link, dd writers
#                         (buffered and O_DIRECT) on both names: fuse:*, lock:contention_*, syscalls of dd;
#                         file version 7, trace-cmd's default zstd
# Every run: `trace-cmd record -d --no-filter -C mono`, hash-ptr 0 (raw lock addresses). trace-cmd
# saves /proc/kallsyms (~5 MB) in every file and has no option to leave it out: it runs in a private
# mount namespace where /proc/kallsyms is /dev/null, so the files stay small (symbols print as
# addresses, in report and in fusescope alike). Restores tracefs, unmounts, detaches on every exit path.
# Usage (root, trace-cmd, fuse2fs): scripts/capture/trace-dat.sh OUTDIR
set -u
. "$(dirname "$0")/lib.sh"
OUT=$(realpath "${1:?OUTDIR}")
W=$(mktemp -d /tmp/fscap.XXXXXX)
LOOP=
FUSEPID=
cleanup() {
  set +e
  tracefs_restore
  mountpoint -q $W/mnt && umount $W/mnt
  if mountpoint -q $W/fmnt; then fusermount -u $W/fmnt 2>/dev/null || umount -l $W/fmnt; fi
  if [ -n "$FUSEPID" ] && kill -0 $FUSEPID 2>/dev/null; then kill $FUSEPID; wait $FUSEPID 2>/dev/null; fi
  [ -n "$LOOP" ] && losetup -d $LOOP
  rm -rf $W
}
trap cleanup EXIT
trap 'exit 1' INT TERM
tracefs_save
echo 0 > $T/options/hash-ptr
mkdir -p $W/mnt $W/fmnt "$OUT"
SYS="openat pwrite64 write close fsync"
DD="-f 'comm==\"dd\"'"

# (a) ext4 O_DIRECT on a loop device
truncate -s 64M $W/ext4.img
mkfs.ext4 -q -F $W/ext4.img
LOOP=$(losetup -f --show $W/ext4.img)
mount $LOOP $W/mnt
DEV=$(devnum $LOOP)
cat > $W/ext4.sh <<EOS
export LC_ALL=C
dd if=/dev/zero of=$W/mnt/f bs=64k count=4 oflag=direct status=none
dd if=/dev/zero of=$W/mnt/f bs=64k count=8 seek=0 conv=notrunc oflag=direct status=none &
dd if=/dev/zero of=$W/mnt/f bs=64k count=8 seek=8 conv=notrunc oflag=direct status=none &
dd if=/dev/zero of=$W/mnt/f bs=1M count=2 seek=0 conv=notrunc status=none &
wait
EOS
EV="-e iomap -f dev==$DEV -e lock:contention_begin $DD -e lock:contention_end $DD"
for s in $SYS; do EV="$EV -e syscalls:sys_enter_$s $DD -e syscalls:sys_exit_$s $DD"; done
tracecmd_record ext4-dio.v6 $W/ext4.sh "--file-version 6" $EV
rm -f $W/mnt/f
tracecmd_record ext4-dio.v7-none $W/ext4.sh "--compression none" $EV
umount $W/mnt

# (b) fuse2fs hardlink
mke2fs -q -t ext4 -O ^has_journal -F $W/fs.img 64M
fuse2fs -o fakeroot $W/fs.img $W/fmnt &
FUSEPID=$!
for i in $(seq 50); do mountpoint -q $W/fmnt && break; sleep 0.1; done
mountpoint -q $W/fmnt || { echo "fuse2fs mount failed"; exit 2; }
mkdir $W/fmnt/d1 $W/fmnt/d2
dd if=/dev/zero of=$W/fmnt/d1/file bs=64k count=16 status=none
ln $W/fmnt/d1/file $W/fmnt/d2/link
cat > $W/fuse.sh <<EOS
export LC_ALL=C
dd if=/dev/zero of=$W/fmnt/d1/file bs=64k count=4 seek=0 conv=notrunc status=none &
dd if=/dev/zero of=$W/fmnt/d1/file bs=64k count=4 seek=4 conv=notrunc oflag=direct status=none &
dd if=/dev/zero of=$W/fmnt/d2/link bs=64k count=4 seek=8 conv=notrunc status=none &
dd if=/dev/zero of=$W/fmnt/d2/link bs=64k count=4 seek=12 conv=notrunc oflag=direct status=none &
wait
EOS
EV="-e fuse -e lock:contention_begin $DD -e lock:contention_end $DD"
for s in $SYS; do EV="$EV -e syscalls:sys_enter_$s $DD -e syscalls:sys_exit_$s $DD"; done
tracecmd_record fuse2fs-hardlink.v7-zstd $W/fuse.sh "" $EV
fusermount -u $W/fmnt
wait $FUSEPID
FUSEPID=
wc -c "$OUT"/*
