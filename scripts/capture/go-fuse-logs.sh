#!/bin/bash
# A real go-fuse debug log of a hardlink workload (fixtures/logs/go-fuse-loopback.log).
# Needs root, /dev/fuse and Debian's Go packages:
#   apt-get install golang-go golang-github-hanwen-go-fuse-dev
# Builds in GOPATH mode against the packaged sources (no module download).
#   go-fuse: its fs.NewLoopbackRoot over a scratch dir, MountOptions.Debug = true (rx/tx lines on stderr)
# (Debian's jacobsa/fuse, a 2015 snapshot, does not build with Go 1.19: its jacobsa fixture is written by hand.)
# Usage: scripts/capture/go-fuse-logs.sh OUTDIR
set -euo pipefail
out=$(realpath "${1:?OUTDIR}"); mkdir -p "$out"
work=$(mktemp -d); mnt=$work/mnt; src=$work/src; mkdir -p "$mnt" "$src" "$work/gopath/src/github.com/hanwen/go-fuse"
cleanup() { fusermount -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
gp=$work/gopath
ln -s /usr/share/gocode/src/github.com/hanwen/go-fuse "$gp/src/github.com/hanwen/go-fuse/v2"
export GO111MODULE=off GOPATH="$gp:/usr/share/gocode" GOCACHE=$work/cache GOFLAGS=
mkdir -p "$gp/src/loopdebug"
cat > "$gp/src/loopdebug/main.go" <<'GO'
package main

import (
	"os"
	"os/signal"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

func main() {
	root, err := fs.NewLoopbackRoot(os.Args[1])
	if err != nil {
		panic(err)
	}
	srv, err := fs.Mount(os.Args[2], root, &fs.Options{MountOptions: fuse.MountOptions{Debug: true, FsName: "loopdebug"}})
	if err != nil {
		panic(err)
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
	go func() { <-c; srv.Unmount() }()
	srv.Wait()
}
GO
go build -o "$work/loopdebug" loopdebug

workload() { # the hardlink workload through the mount
	mkdir "$mnt/d1" "$mnt/d2"
	dd if=/dev/zero of="$mnt/d1/file" bs=64k count=2 status=none
	ln "$mnt/d1/file" "$mnt/d2/link" || true
	dd if=/dev/zero of="$mnt/d2/link" bs=64k count=1 seek=2 conv=notrunc status=none || true
	stat -c '%n ino=%i nlink=%h size=%s' "$mnt/d1/file" "$mnt/d2/link" || true
	cat "$mnt/d1/file" > /dev/null
	ls "$mnt/nonexistent" 2>/dev/null || true
}
waitmount() { for _ in $(seq 50); do mountpoint -q "$mnt" && return 0; sleep 0.1; done; echo "mount failed" >&2; exit 1; }

hdr() { # $1 = what, $2 = version
	echo "# fusescope fixture, captured $(date -u +%F) on Linux $(uname -r) by scripts/capture/go-fuse-logs.sh."
	echo "# $1 ($2), stderr of the server for the whole run."
	echo "# Workload: mkdir d1 d2; dd 128 KiB to d1/file; ln d1/file d2/link; dd 64 KiB at 128 KiB via d2/link;"
	echo "# stat both names; cat d1/file; ls of a missing name."
}

# go-fuse
"$work/loopdebug" "$src" "$mnt" 2> "$work/go-fuse.err" & pid=$!
waitmount; workload > "$work/go-fuse.stat"; sleep 0.3
kill -INT "$pid"; wait "$pid" || true; pid=
{ hdr "go-fuse fs.NewLoopbackRoot with MountOptions.Debug" "Debian golang-github-hanwen-go-fuse-dev $(dpkg-query -W -f '${Version}' golang-github-hanwen-go-fuse-dev)"
  sed 's/^/# stat: /' "$work/go-fuse.stat"; cat "$work/go-fuse.err"; } > "$out/go-fuse-loopback.log"

ls -l "$out"
