#!/bin/bash
# Captures fixtures/trace-dat/options.v6.dat and options.v7-zstd.dat (and their `trace-cmd report -t`
# text): the trace.dat options the other captures lack, on a small ext4 O_DIRECT dd workload:
#   - a stack-trace record after each lock:contention_begin (`-R stacktrace`: ftrace's kernel_stack
#     event, which report prints as `<stack trace >` then `=> addr` lines; kallsyms is hidden as in
#     trace-dat.sh, so frames are addresses),
#   - an instance buffer `fsx` (`-B fsx`) holding the iomap events of the loop device,
#   - `-O record-tgid` (tracefs saves pid → tgid; trace-cmd 3.1.6 stores no such option in the file:
#     checked with `trace-cmd dump --options`, so the import has no tgid map from a .dat).
# Same rules as trace-dat.sh: `trace-cmd record -d --no-filter -C mono`, hash-ptr 0, tracefs restored.
# Usage (root, trace-cmd): scripts/capture/trace-dat-options.sh OUTDIR
set -u
. "$(dirname "$0")/lib.sh"
OUT=$(realpath "${1:?OUTDIR}")
W=$(mktemp -d /tmp/fscap.XXXXXX)
LOOP=
cleanup() {
  set +e
  tracefs_restore
  for i in $T/instances/fsx; do [ -d $i ] && rmdir $i; done
  mountpoint -q $W/mnt && umount $W/mnt
  [ -n "$LOOP" ] && losetup -d $LOOP
  rm -rf $W
}
trap cleanup EXIT
trap 'exit 1' INT TERM
tracefs_save
echo 0 > $T/options/hash-ptr
mkdir -p $W/mnt "$OUT"
DD="-f 'comm==\"dd\"'"

truncate -s 64M $W/ext4.img
mkfs.ext4 -q -F $W/ext4.img
LOOP=$(losetup -f --show $W/ext4.img)
mount $LOOP $W/mnt
DEV=$(devnum $LOOP)
cat > $W/ext4.sh <<EOS
export LC_ALL=C
dd if=/dev/zero of=$W/mnt/f bs=64k count=8 seek=0 conv=notrunc oflag=direct status=none &
dd if=/dev/zero of=$W/mnt/f bs=64k count=8 seek=8 conv=notrunc oflag=direct status=none &
dd if=/dev/zero of=$W/mnt/f bs=1M count=2 seek=0 conv=notrunc status=none &
wait
EOS
EV="-O record-tgid -e lock:contention_begin $DD -R stacktrace -e lock:contention_end $DD"
for s in openat pwrite64 write close; do EV="$EV -e syscalls:sys_enter_$s $DD -e syscalls:sys_exit_$s $DD"; done
EV="$EV -B fsx -e iomap:iomap_dio_rw_begin -f dev==$DEV -e iomap:iomap_dio_complete -f dev==$DEV"
tracecmd_record options.v6 $W/ext4.sh "--file-version 6" $EV
rm -f $W/mnt/f
tracecmd_record options.v7-zstd $W/ext4.sh "" $EV
umount $W/mnt
wc -c "$OUT"/options*
