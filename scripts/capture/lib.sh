# Sourced by the capture scripts: tracefs set-up shared by all of them, and the restore each runs on
# every exit path (from its cleanup trap). Set UPROBES (names under uprobes/) before the restore runs.
T=/sys/kernel/tracing
MOUNTED_TRACEFS=0
UPROBES=
# The stack of a contending dd names the lock's role (lock attribution reads it).
TRIGGER='stacktrace if comm == "dd"'

# One tracing user at a time: the lock `fusescope capture` takes (docs/capture.md), a file with the owner's pid.
LOCK_DIR=/run/fusescope
HAVE_LOCK=0
tracefs_lock() {
  mkdir -p $LOCK_DIR
  if ! (set -C; echo $$ > $LOCK_DIR/capture.lock) 2>/dev/null; then
    owner=$(cat $LOCK_DIR/capture.lock 2>/dev/null)
    if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then
      echo "tracefs is in use by pid $owner ($LOCK_DIR/capture.lock): one tracing user at a time" >&2; exit 1
    fi
    if [ -e $LOCK_DIR/tracefs-restore.json ]; then
      echo "a killed fusescope capture left tracefs changed: run 'fusescope capture --restore' first" >&2; exit 1
    fi
    echo $$ > $LOCK_DIR/capture.lock
  fi
  HAVE_LOCK=1
}

# Mounts tracefs if needed and remembers the settings the scripts change.
tracefs_save() {
  tracefs_lock
  [ -d $T/events ] || { mount -t tracefs nodev $T && MOUNTED_TRACEFS=1; }
  OLD_CLOCK=$(sed 's/.*\[\(.*\)\].*/\1/' $T/trace_clock)
  OLD_BUF=$(cat $T/buffer_size_kb)
  OLD_HASH=$(cat $T/options/hash-ptr)
  OLD_TGID=$(cat $T/options/record-tgid)
  OLD_IRQ=$(cat $T/options/irq-info)
}

# Every event off, every filter cleared, the trigger and UPROBES removed, the settings back.
tracefs_restore() {
  [ -d $T/events ] && [ -n "${OLD_CLOCK:-}" ] || return 0
  echo 0 > $T/tracing_on
  echo "!$TRIGGER" > $T/events/lock/contention_begin/trigger 2>/dev/null
  echo 0 > $T/events/enable
  for f in $T/events/*/filter $T/events/*/*/filter; do [ "$(cat $f)" = none ] || echo 0 > $f; done
  for p in $UPROBES; do echo "-:uprobes/$p" >> $T/uprobe_events 2>/dev/null; done
  echo $OLD_HASH > $T/options/hash-ptr
  echo $OLD_TGID > $T/options/record-tgid
  echo $OLD_IRQ > $T/options/irq-info
  echo $OLD_CLOCK > $T/trace_clock
  echo $OLD_BUF > $T/buffer_size_kb
  echo > $T/trace
  echo 1 > $T/tracing_on
  [ $MOUNTED_TRACEFS = 1 ] && umount $T
  [ $HAVE_LOCK = 1 ] && rm -f $LOCK_DIR/capture.lock
  return 0
}

# tracecmd_record NAME WORKLOAD EXTRA-OPTIONS EVENT-ARGS…: trace-cmd record in a mount namespace where
# /proc/kallsyms is empty (keeps the .dat small), copied to $OUT with its `trace-cmd report -t` beside it,
# headed by how it was made. Needs $W (work dir), $T (tracefs), $OUT. trace-cmd exits 1 at cleanup on this
# kernel and leaves tracing_on at 0: it is set back here.
tracecmd_record() {
  local name=$1 work=$2 opts=$3; shift 3
  unshare -m sh -c "mount --bind /dev/null /proc/kallsyms && exec trace-cmd record -d --no-filter -C mono $opts $* -o $W/$name.dat sh $work" > $W/$name.log 2>&1
  echo 1 > $T/tracing_on
  [ -s $W/$name.dat ] || { cat $W/$name.log; exit 2; }
  cp $W/$name.dat "$OUT/$name.dat"
  { echo "# trace-cmd report -t $name.dat (trace-cmd $(trace-cmd --version 2>&1 | awk '/version/ {print $3; exit}')): made by scripts/capture/$(basename "$0")"
    echo "# record: trace-cmd record -d --no-filter -C mono $opts $*"
    trace-cmd report -t "$OUT/$name.dat" 2>/dev/null; } > "$OUT/$name.report.txt"
}

# dev_t of a block device as the kernel's tracepoints print it (major << 20 | minor).
devnum() { local d=$(stat -c '%t %T' $1); echo $(( (0x${d% *} << 20) | 0x${d#* } )); }

# dd's lock contention (with the stacktrace trigger) and the syscalls named in $1.
trace_dd_locks_and_syscalls() {
  for e in contention_begin contention_end; do
    echo 'comm == "dd"' > $T/events/lock/$e/filter
    echo 1 > $T/events/lock/$e/enable
  done
  echo "$TRIGGER" > $T/events/lock/contention_begin/trigger
  for s in $1; do for d in enter exit; do
    echo 'comm == "dd"' > $T/events/syscalls/sys_${d}_$s/filter
    echo 1 > $T/events/syscalls/sys_${d}_$s/enable
  done; done
}
