#!/bin/bash
# Captures the fuse2fs hardlink fixture (fixtures/real/fuse2fs-hardlink/): a journal-less ext4 image
# served by Debian's fuse2fs (libfuse 2.9.9, high-level API), d1/file + hardlink d2/link, four
# concurrent dd writers (two per name; one buffered and one O_DIRECT each). Traces fuse:*,
# lock:contention_* (+stacktrace trigger) and syscalls of dd, with record-tgid=1 and hash-ptr=0,
# and a uprobe on glibc open64 for paths. Restores tracefs and unmounts on every exit path.
# Usage (root): scripts/capture/fuse2fs-hardlink.sh OUTDIR
set -u
. "$(dirname "$0")/lib.sh"
OUT=$(realpath "${1:?OUTDIR}")
W=$(mktemp -d /tmp/fscap.XXXXXX)
MNT=$W/mnt
FUSEPID=
LIBC=/lib/x86_64-linux-gnu/libc.so.6
SYSCALLS="openat pwrite64 write pread64 read fsync close dup dup2 dup3 ftruncate fallocate"

UPROBES=open64

cleanup() {
  set +e
  tracefs_restore
  if mountpoint -q $MNT; then fusermount -u $MNT 2>/dev/null || umount -l $MNT; fi
  if [ -n "$FUSEPID" ] && kill -0 $FUSEPID 2>/dev/null; then kill $FUSEPID; wait $FUSEPID 2>/dev/null; fi
  rm -rf $W
}
trap cleanup EXIT
trap 'exit 1' INT TERM

tracefs_save
mkdir -p $MNT "$OUT"
mke2fs -q -t ext4 -O ^has_journal -F $W/fs.img 64M
fuse2fs -d -o fakeroot $W/fs.img $MNT 2> $W/fuse2fs.log &
FUSEPID=$!
for i in $(seq 50); do mountpoint -q $MNT && break; sleep 0.1; done
mountpoint -q $MNT || { echo "mount failed"; cat $W/fuse2fs.log; exit 2; }
mkdir $MNT/d1 $MNT/d2
dd if=/dev/zero of=$MNT/d1/file bs=64k count=64 status=none
ln $MNT/d1/file $MNT/d2/link
stat -c '%n ino=%i links=%h' $MNT/d1/file $MNT/d2/link

echo 0 > $T/tracing_on
echo > $T/trace
echo 1 > $T/options/record-tgid
echo 0 > $T/options/hash-ptr
OFF=$(readelf -Ws $LIBC | awk '$8 ~ /^open64@@/ {print $2}')
echo "p:uprobes/open64 $LIBC:0x$OFF path=+0(%di):ustring flags=%si:x32" >> $T/uprobe_events
echo 'comm == "dd"' > $T/events/uprobes/open64/filter
echo 1 > $T/events/uprobes/open64/enable
echo 1 > $T/events/fuse/enable
trace_dd_locks_and_syscalls "$SYSCALLS"
echo 1 > $T/tracing_on

dd if=/dev/zero of=$MNT/d1/file bs=64k count=16 seek=0 conv=notrunc status=none &
dd if=/dev/zero of=$MNT/d1/file bs=64k count=16 seek=16 conv=notrunc oflag=direct status=none &
dd if=/dev/zero of=$MNT/d2/link bs=64k count=16 seek=32 conv=notrunc status=none &
dd if=/dev/zero of=$MNT/d2/link bs=64k count=16 seek=48 conv=notrunc oflag=direct status=none &
wait $(jobs -p | grep -v "^$FUSEPID$") 2>/dev/null
for j in $(jobs -p); do [ "$j" != "$FUSEPID" ] && wait $j; done
echo 0 > $T/tracing_on
cp $T/trace $W/trace.txt
fusermount -u $MNT
wait $FUSEPID
FUSEPID=
cp $W/trace.txt "$OUT/trace.raw.txt"
cp $W/fuse2fs.log "$OUT/fuse2fs-d.raw.log"
wc -c "$OUT"/*
