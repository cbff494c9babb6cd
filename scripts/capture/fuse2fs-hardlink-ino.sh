#!/bin/bash
# Captures fixtures/real/fuse2fs-hardlink-ino/: like fuse2fs-hardlink.sh (Debian fuse2fs on libfuse 2.9.9,
# high-level API; d1/file + hardlink d2/link; two writers per name, one buffered and one O_DIRECT each) but
# traced from before the mkdir/create/link, with uprobes on libfuse's reply functions that print what the
# server answers: the request's unique, the nodeid and the st_ino of the attributes.
#   fuse_reply_entry(req, const struct fuse_entry_param *e)                 also used for LINK/MKDIR/LOOKUP
#   fuse_reply_create(req, const struct fuse_entry_param *e, const struct fuse_file_info *fi)
#   fuse_reply_attr(req, const struct stat *attr, double attr_timeout)
# Offsets (x86-64, libfuse 2.9.9 lib/fuse_lowlevel.c and include/fuse_lowlevel.h): struct fuse_req starts
# with `struct fuse_ll *f` then `uint64_t unique` (+8); struct fuse_entry_param is {fuse_ino_t ino (+0),
# unsigned long generation (+8), struct stat attr (+16), ...}; glibc's struct stat has st_ino at +8,
# st_nlink at +16, st_mode at +24, st_size at +48. So entry/create: nodeid=+0(%si) ino=+24(%si)
# nlink=+32(%si) mode=+40(%si) size=+64(%si); attr: ino=+8(%si) nlink=+16(%si) mode=+24(%si) size=+48(%si).
# The capture checks them: `stat -c %i` of both names is written to trace_marker, and the -d log's
# "NODEID: N" / "unique: N" lines must agree with the uprobe values.
# Kernel side as fuse2fs-hardlink.sh: fuse:*, lock:contention_* (comm == dd, stacktrace trigger), syscalls of
# dd, uprobe open64 in glibc for paths; options record-tgid=1 hash-ptr=0, trace_clock mono.
# Restores tracefs and unmounts on every exit path.
# Usage (root): scripts/capture/fuse2fs-hardlink-ino.sh OUTDIR
set -u
. "$(dirname "$0")/lib.sh"
OUT=$(realpath "${1:?OUTDIR}")
W=$(mktemp -d /tmp/fscap.XXXXXX)
MNT=$W/mnt
FUSEPID=
LIBC=/lib/x86_64-linux-gnu/libc.so.6
LIBFUSE=$(readlink -f /lib/x86_64-linux-gnu/libfuse.so.2)
SYSCALLS="openat close dup dup2 dup3 pwrite64 write pread64 read fsync"
PROBES="open64 fuse_reply_entry fuse_reply_create fuse_reply_attr"

tracefs_save
UPROBES=$PROBES

cleanup() {
  set +e
  tracefs_restore
  if mountpoint -q $MNT; then fusermount -u $MNT 2>/dev/null || umount -l $MNT; fi
  if [ -n "$FUSEPID" ] && kill -0 $FUSEPID 2>/dev/null; then kill $FUSEPID; wait $FUSEPID 2>/dev/null; fi
  rm -rf $W
}
trap cleanup EXIT
trap 'exit 1' INT TERM

sym() { readelf -Ws $1 | awk -v s="$2" '$8 == s {print $2; exit}'; }
mkdir -p $MNT "$OUT"
mke2fs -q -t ext4 -O ^has_journal -F $W/fs.img 64M
fuse2fs -d -o fakeroot $W/fs.img $MNT 2> $W/fuse2fs.log &
FUSEPID=$!
for i in $(seq 50); do mountpoint -q $MNT && break; sleep 0.1; done
mountpoint -q $MNT || { echo "mount failed"; cat $W/fuse2fs.log; exit 2; }

echo 0 > $T/tracing_on
echo > $T/trace
echo mono > $T/trace_clock
echo 8192 > $T/buffer_size_kb
echo 1 > $T/options/record-tgid
echo 0 > $T/options/hash-ptr
echo "p:uprobes/open64 $LIBC:0x$(sym $LIBC open64@@GLIBC_2.2.5) path=+0(%di):ustring flags=%si:x32" >> $T/uprobe_events
E='unique=+8(%di):u64 nodeid=+0(%si):u64 ino=+24(%si):u64 nlink=+32(%si):u64 mode=+40(%si):x32 size=+64(%si):s64'
echo "p:uprobes/fuse_reply_entry $LIBFUSE:0x$(sym $LIBFUSE fuse_reply_entry@@FUSE_2.4) $E" >> $T/uprobe_events
echo "p:uprobes/fuse_reply_create $LIBFUSE:0x$(sym $LIBFUSE fuse_reply_create@@FUSE_2.5) $E" >> $T/uprobe_events
echo "p:uprobes/fuse_reply_attr $LIBFUSE:0x$(sym $LIBFUSE fuse_reply_attr@@FUSE_2.4) unique=+8(%di):u64 ino=+8(%si):u64 nlink=+16(%si):u64 mode=+24(%si):x32 size=+48(%si):s64" >> $T/uprobe_events
echo 'comm == "dd" || comm == "ln" || comm == "truncate"' > $T/events/uprobes/open64/filter
for p in fuse_reply_entry fuse_reply_create fuse_reply_attr; do echo 'comm == "fuse2fs"' > $T/events/uprobes/$p/filter; done
for p in $PROBES; do echo 1 > $T/events/uprobes/$p/enable; done
echo 1 > $T/events/fuse/enable
trace_dd_locks_and_syscalls "$SYSCALLS"
echo 1 > $T/tracing_on

export LC_ALL=C   # no locale files: fewer openat/read/close lines from dd
mkdir $MNT/d1 $MNT/d2
truncate -s 4M $MNT/d1/file
ln $MNT/d1/file $MNT/d2/link
STAT=$(stat -c '%n st_ino=%i nlink=%h size=%s' $MNT/d1/file $MNT/d2/link | sed "s|$MNT/||")
echo "stat: $(echo $STAT)" > $T/trace_marker
dd if=/dev/zero of=$MNT/d1/file bs=64k count=16 seek=0 conv=notrunc status=none &
dd if=/dev/zero of=$MNT/d1/file bs=64k count=16 seek=16 conv=notrunc oflag=direct status=none &
dd if=/dev/zero of=$MNT/d2/link bs=64k count=16 seek=32 conv=notrunc status=none &
dd if=/dev/zero of=$MNT/d2/link bs=64k count=16 seek=48 conv=notrunc oflag=direct status=none &
for j in $(jobs -p); do [ "$j" != "$FUSEPID" ] && wait $j; done
echo 0 > $T/tracing_on
cp $T/trace $W/trace.txt
fusermount -u $MNT
wait $FUSEPID
FUSEPID=
H="# fusescope fixture, captured $(date +%F) on Linux $(uname -r) ($(nproc) vCPU) by scripts/capture/fuse2fs-hardlink-ino.sh.
# Debian fuse2fs 1.47 (libfuse 2.9.9 high-level API) serving a 64 MiB ext4 image made with 'mke2fs -t ext4 -O ^has_journal'.
# Traced from before the setup: mkdir d1 d2; truncate -s 4M d1/file; ln d1/file d2/link; stat gave: $(echo $STAT)
# (also in a trace_marker line). Four concurrent writers: dd bs=64k count=16 conv=notrunc to d1/file (buffered,
# seek=0), d1/file (oflag=direct, seek=16), d2/link (buffered, seek=32), d2/link (oflag=direct, seek=48)."
{ echo "$H"
  echo "# Kernel side: /sys/kernel/tracing/trace with fuse:*, lock:contention_begin/end (filter comm==dd, trigger"
  echo "# '$TRIGGER'), syscalls sys_{enter,exit}_{$(echo $SYSCALLS | tr ' ' ,)} (comm==dd), uprobe open64 in glibc"
  echo "# (path=+0(%di):ustring; comm dd/ln/truncate), and uprobes in $LIBFUSE (comm==fuse2fs):"
  grep -E 'fuse_reply_(entry|attr|create)' $T/uprobe_events | sed 's/^/#   /'
  echo "# (entry/create: e = %si, st_ino of e->attr at +24; attr: st_ino at +8(%si); unique of struct fuse_req at +8(%di))."
  echo "# Options record-tgid=1 hash-ptr=0, trace_clock mono."
  cat $W/trace.txt
} > "$OUT/trace.txt"
{ echo "$H"
  echo "# Server side: stderr of 'fuse2fs -d -o fakeroot IMG MNT' for the whole run (mount to unmount)."
  cat $W/fuse2fs.log
} > "$OUT/fuse2fs-d.log"
wc -c "$OUT"/*
# The fixture must show contention through both names (two i_rwsem addresses): else say so and fail.
N=$(grep -v '^#' "$OUT/trace.txt" | grep ' contention_begin: ' | awk '{print $(NF-1)}' | sort -u | wc -l)
[ $N -ge 2 ] || { echo "only $N contended lock address(es): run again"; exit 3; }
