#!/bin/bash
# A real libfuse 3 `-d` log (fixtures/logs/bindfs-libfuse3.log): Debian bindfs (libfuse 3, high-level API)
# mirroring a scratch dir, with the hardlink workload of go-fuse-logs.sh. Needs root, /dev/fuse, `apt-get install bindfs`.
# Usage: scripts/capture/libfuse3-bindfs-log.sh OUTDIR
set -euo pipefail
out=$(realpath "${1:?OUTDIR}"); mkdir -p "$out"
work=$(mktemp -d); mnt=$work/mnt; src=$work/src; mkdir -p "$mnt" "$src"
cleanup() { fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
bindfs -d "$src" "$mnt" > "$work/log" 2>&1 & pid=$!
for _ in $(seq 50); do mountpoint -q "$mnt" && break; sleep 0.1; done
mkdir "$mnt/d1" "$mnt/d2"
dd if=/dev/zero of="$mnt/d1/file" bs=64k count=2 status=none
ln "$mnt/d1/file" "$mnt/d2/link"
stat -c '%n ino=%i nlink=%h' "$mnt/d1/file" "$mnt/d2/link" > "$work/stat"
ls "$mnt/missing" 2>/dev/null || true
sleep 0.3; fusermount3 -u "$mnt"; wait "$pid" || true; pid=
{ echo "# fusescope fixture, captured $(date -u +%F) on Linux $(uname -r) by scripts/capture/libfuse3-bindfs-log.sh."
  echo "# Debian bindfs $(dpkg-query -W -f '${Version}' bindfs) on libfuse3 $(dpkg-query -W -f '${Version}' libfuse3-3): stdout+stderr of 'bindfs -d SRC MNT'."
  echo "# Workload: mkdir d1 d2; dd 128 KiB to d1/file; ln d1/file d2/link; stat both; ls of a missing name."
  sed 's/^/# stat: /' "$work/stat"; cat "$work/log"; } > "$out/bindfs-libfuse3.log"
