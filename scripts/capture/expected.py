#!/usr/bin/env python3
"""Hand-derived expected figures for a real fixture, written beside it as <name>.expected.json.

Independent of fusescope: it reads the raw lines with regular expressions (the same reading one does
with grep/awk) and applies the definitions in fixtures/README.md. Nothing here imports or runs the
importer. Usage: scripts/capture/expected.py TRACE [FUSE2FS_D_LOG]
"""
import json
import re
import sys
from collections import Counter, defaultdict

# comm-pid [(tgid)] [cpu] [irq-info flags] secs.frac: rest   (tracefs `trace`/trace_pipe and trace-cmd report)
LINE = re.compile(r'^\s*(.+?)-(\d+)\s+(?:\(\s*(?:\d+|-+)\)\s+)?\[(\d+)\]\s+(?:(\S{4,5})\s+)?(\d+)\.(\d+):\s(.*)$')
FRAME = re.compile(r'^\s*=> (\S+)(?: \(([0-9a-f]+)\))?\s*$')


def ns_of(secs, frac):
    """Absolute ns as printed: µs (6 digits) or ns (9 digits, trace-cmd report -t)."""
    return int(secs) * 10**9 + int(frac.ljust(9, '0'))


def parse(path):
    """Events in file order: dict(pid, comm, tsNs, name, body, line, frames)."""
    events = []
    with open(path, encoding='utf-8') as f:
        for lineno, raw in enumerate(f, 1):
            raw = raw.rstrip('\n')
            if raw.startswith('#') or not raw.strip():
                continue
            m = FRAME.match(raw)
            if m:
                events[-1]['frames'].append(m.group(1))
                continue
            m = LINE.match(raw)
            if not m:
                continue  # trace-cmd's `cpus=2` header
            comm, pid, _cpu, _flags, secs, frac, rest = m.groups()
            if rest.startswith('<stack trace>'):
                name, body = 'kernel_stack', ''
            else:
                sm = re.match(r'(sys_\w+)(\(.*\))$', rest)            # tracefs syscall entry
                xm = re.match(r'(sys_\w+) -> (\S+)$', rest)           # tracefs syscall exit
                if sm:
                    name, body = 'sys_enter_' + sm.group(1)[4:], sm.group(2)[1:-1]
                elif xm:
                    name, body = 'sys_exit_' + xm.group(1)[4:], xm.group(2)
                else:
                    name, _, body = rest.partition(':')
                    body = body.strip()
                    if name == 'kernel_stack':
                        body = ''
            events.append(dict(pid=int(pid), comm=comm, tsNs=ns_of(secs, frac), name=name,
                               body=body, line=lineno, frames=[]))
    return events


def fields(body):
    """`key value` pairs of iomap/xfs bodies (first occurrence wins)."""
    toks = body.split()
    out = {}
    for i in range(len(toks) - 1):
        if re.match(r'^[a-z_]+$', toks[i]) and toks[i] not in out:
            out[toks[i]] = toks[i + 1]
    return out


def iomap_steps(events):
    """A step: an iomap_iter followed (before the same task's next iomap_iter) by an iomap_iter_dstmap;
    it ends at that next iomap_iter (null when the task has none)."""
    by_pid = defaultdict(list)
    for e in events:
        by_pid[e['pid']].append(e)
    steps = []
    for pid, evs in by_pid.items():
        iters = [i for i, e in enumerate(evs) if e['name'] == 'iomap_iter']
        for k, i in enumerate(iters):
            j = iters[k + 1] if k + 1 < len(iters) else len(evs)
            window = evs[i + 1:j]
            dst = next((e for e in window if e['name'] == 'iomap_iter_dstmap'), None)
            if not dst:
                continue
            src = next((e for e in window if e['name'] == 'iomap_iter_srcmap'), None)
            it = fields(evs[i]['body'])
            d = fields(dst['body'])
            flags = re.search(r'flags (\S+) \((0x[0-9a-f]+)\)', evs[i]['body'])
            step = dict(pid=pid, comm=evs[i]['comm'], line=evs[i]['line'], startNs=evs[i]['tsNs'],
                        endNs=evs[j]['tsNs'] if j < len(evs) else None,
                        ino=it['ino'], pos=it['pos'], iterFlags=flags.group(1) if flags else None,
                        dstmap=dict(type=d['type'], offset=d['offset'], length=d['length'], addr=d['addr'],
                                    line=dst['line']))
            if src:
                s = fields(src['body'])
                step['srcmap'] = dict(type=s['type'], offset=s['offset'], length=s['length'], addr=s['addr'])
            steps.append(step)
    steps.sort(key=lambda s: s['line'])
    per_task = Counter(s['pid'] for s in steps)
    return steps, {str(p): n for p, n in sorted(per_task.items())}


def named_steps(steps):
    """Steps worth a test by name: the first, the first O_DIRECT read, the first buffered write, the last."""
    def first(pred):
        return next((s for s in steps if pred(s['iterFlags'] or '')), None)
    named = dict(first=steps[0] if steps else None,
                 firstDirectRead=first(lambda f: 'DIRECT' in f and 'WRITE' not in f),
                 firstBufferedWrite=first(lambda f: 'WRITE' in f and 'DIRECT' not in f),
                 last=steps[-1] if steps else None)
    return {k: v for k, v in named.items() if v}


def lock_role(frames):
    """The frame under down_write/down_read/mutex_lock: whose code wanted the lock."""
    for i, fr in enumerate(frames):
        if fr in ('down_write', 'down_read', 'mutex_lock', 'down_write_killable', 'down_read_killable'):
            return fr, frames[i + 1] if i + 1 < len(frames) else None
    return None, None


def contentions(events, extra=None):
    """Per lock address: waits (begin → the same task's next contention_end of that address)."""
    waits = []
    open_by_pid = {}
    for idx, e in enumerate(events):
        if e['name'] == 'contention_begin':
            m = re.match(r'(?:0x)?([0-9a-f]+) \(flags=(\S+)\)', e['body'])
            w = dict(addr=m.group(1).lstrip('0') or '0', pid=e['pid'], beginNs=e['tsNs'], beginLine=e['line'],
                     flags=m.group(2), endNs=None, ret=None)
            # the stack trace the trigger wrote for this begin: the same task's next kernel_stack
            st = next((s for s in events[idx + 1:] if s['pid'] == e['pid'] and s['name'] == 'kernel_stack'), None)
            if st:
                w['stack'] = dict(line=st['line'], tsNs=st['tsNs'])
                w['lockCall'], w['caller'] = lock_role(st['frames'])
                if w['caller'] == 'xfs_ilock':
                    i = st['frames'].index('xfs_ilock')
                    w['xfsIlockCaller'] = st['frames'][i + 1] if i + 1 < len(st['frames']) else None
            if extra:
                extra(w, events, idx)
            waits.append(w)
            open_by_pid[(e['pid'], w['addr'])] = w
        elif e['name'] == 'contention_end':
            m = re.match(r'(?:0x)?([0-9a-f]+) \(ret=(-?\d+)\)', e['body'])
            key = (e['pid'], m.group(1).lstrip('0') or '0')
            w = open_by_pid.pop(key, None)
            if w:
                w['endNs'], w['ret'] = e['tsNs'], int(m.group(2))
    per_addr = {}
    for w in waits:
        a = per_addr.setdefault(w['addr'], dict(count=0, waits=[], noEnd=[]))
        a['count'] += 1
        a['waits'].append(w)
        if w['endNs'] is None:
            a['noEnd'].append(w['beginLine'])
    for a in per_addr.values():
        ended = [w['endNs'] - w['beginNs'] for w in a['waits'] if w['endNs'] is not None]
        a['waitNsTotal'] = sum(ended)
        a['waitNsMax'] = max(ended) if ended else None
    return per_addr


def xfs_lock_pairs(events):
    """xfs_ilock → the same task's next xfs_iunlock of the same ino and lock bit."""
    held = defaultdict(list)    # (pid, ino, bit) → [line]
    pairs = defaultdict(Counter)
    unmatched_unlock = []
    for e in events:
        if e['name'] not in ('xfs_ilock', 'xfs_iunlock'):
            continue
        f = fields(e['body'])
        bits = f['flags'].split('|')
        for b in bits:
            k = (e['pid'], f['ino'], b)
            if e['name'] == 'xfs_ilock':
                held[k].append(e['line'])
            elif held[k]:
                held[k].pop()
                pairs[e['pid']][b] += 1
            else:
                unmatched_unlock.append(dict(pid=e['pid'], comm=e['comm'], line=e['line'], flags=b))
    unmatched_lock = [dict(pid=k[0], ino=k[1], flags=k[2], line=l) for k, ls in held.items() for l in ls]
    return dict(perTask={str(p): dict(c) for p, c in sorted(pairs.items())},
                pairs=sum(sum(c.values()) for c in pairs.values()),
                unmatchedLock=sorted(unmatched_lock, key=lambda x: x['line']),
                unmatchedUnlock=unmatched_unlock)


def counts(events):
    c = Counter(e['name'] for e in events)
    frames = sum(len(e['frames']) for e in events)
    return dict(sorted(c.items())), frames


def task_paths(events):
    """pid → paths the task opened (open64 uprobe strings), and O_DIRECT from its flags."""
    out = defaultdict(list)
    for e in events:
        if e['name'] == 'open64':
            m = re.search(r'path="([^"]*)" flags=(0x[0-9a-f]+)', e['body'])
            out[e['pid']].append((m.group(1), int(m.group(2), 16)))
    return out


def kernel_fs(path, events):
    cnt, frames = counts(events)
    steps, per_task = iomap_steps(events)
    inos = sorted({fields(e['body'])['ino'] for e in events if e['name'].startswith('iomap_') and 'ino' in e['body']})

    def last_ilock(w, evs, idx):
        # XFS: the waiter's own xfs_ilock just before its contention_begin names the inode and lock bit
        prev = next((p for p in reversed(evs[:idx]) if p['pid'] == w['pid'] and p['name'] == 'xfs_ilock'), None)
        if prev:
            f = fields(prev['body'])
            w['prevXfsIlock'] = dict(line=prev['line'], ino=f['ino'], flags=f['flags'], caller=f['caller'])
        # the waiter's syscall in flight at the begin
        sc = next((p for p in reversed(evs[:idx]) if p['pid'] == w['pid'] and p['name'].startswith('sys_')), None)
        if sc and sc['name'].startswith('sys_enter_'):
            w['inSyscall'] = sc['name'][10:] + '(' + sc['body'] + ')'

    out = dict(fixture=path.split('/')[-1], eventLines=sum(cnt.values()), countsByTracepoint=cnt,
               stackFrameLines=frames, iomapInodes=inos,
               iomapSteps=dict(count=len(steps), perTask=per_task, named=named_steps(steps), steps=steps),
               lockContention=contentions(events, last_ilock))
    # whose lock: the inodes that the waiting tasks' own iomap lines and (XFS) xfs_ilock lines name
    for a in out['lockContention'].values():
        pids = {w['pid'] for w in a['waits']}
        a['inoFromWaiterIomap'] = sorted({fields(e['body'])['ino'] for e in events
                                          if e['pid'] in pids and e['name'].startswith('iomap_')})
        a['inoFromXfsIlock'] = sorted({w['prevXfsIlock']['ino'] for w in a['waits'] if 'prevXfsIlock' in w})
    if any(e['name'] == 'xfs_ilock' for e in events):
        out['xfsLockPairs'] = xfs_lock_pairs(events)
    return out


def parse_log(path):
    """libfuse -d log: unique → {opcode, nodeid (request), path (op line), replyNodeid (NODEID:)}."""
    reqs = {}
    cur = None
    with open(path, encoding='utf-8') as f:
        for raw in f:
            if raw.startswith('#'):
                continue
            m = re.match(r'^unique: (\d+), opcode: (\w+) \(\d+\), nodeid: (\d+),', raw)
            if m:
                cur = reqs[int(m.group(1))] = dict(opcode=m.group(2), nodeid=int(m.group(3)), ops=[])
                continue
            m = re.match(r'^\s+NODEID: (\d+)', raw)
            if m and cur:
                cur['replyNodeid'] = int(m.group(1))
                continue
            if cur is not None and not raw.startswith(' ') and not raw.startswith('unique:'):
                cur['ops'].append(raw.strip())
    return reqs


def op_path(req):
    """The path a reply names: link's new name, create/mkdir/LOOKUP's path."""
    for op in req['ops']:
        m = re.match(r'^link (\S+) (\S+)$', op)
        if m:
            return m.group(2)
        m = re.match(r'^(?:LOOKUP|mkdir|getattr|truncate|chmod|utimens) (/\S*)', op)
        if m:
            return m.group(1)
        m = re.match(r'^create flags: 0x[0-9a-f]+ (/\S+)', op)
        if m:
            return m.group(1)
    return None


def fuse2fs(path, events, log):
    cnt, frames = counts(events)
    reqs = parse_log(log)
    replies = []
    nodes = {}
    for e in events:
        if e['name'] not in ('fuse_reply_entry', 'fuse_reply_create', 'fuse_reply_attr'):
            continue
        kv = dict(re.findall(r'(\w+)=(\S+)', e['body']))
        u = int(kv['unique'])
        req = reqs.get(u)
        r = dict(line=e['line'], probe=e['name'], unique=u, ino=int(kv['ino']), nlink=int(kv['nlink']),
                 logOpcode=req and req['opcode'])
        if 'nodeid' in kv:
            r['nodeid'] = int(kv['nodeid'])
            r['logNodeidAgrees'] = bool(req and req.get('replyNodeid') == r['nodeid'])
        else:
            r['nodeid'] = req and req['nodeid']   # GETATTR/SETATTR: the request's own nodeid (from the log)
            r['nodeidFrom'] = 'log request header'
        r['path'] = req and op_path(req)
        replies.append(r)
        n = nodes.setdefault(r['nodeid'], dict(paths=set(), stIno=set()))
        if r['path']:
            n['paths'].add(r['path'])
        n['stIno'].add(r['ino'])
    by_ino = defaultdict(list)
    for nid, n in nodes.items():
        for i in n['stIno']:
            by_ino[i].append(nid)
    alias = [dict(stIno=i, nodeids=sorted(ns), paths=sorted(p for nid in ns for p in nodes[nid]['paths']))
             for i, ns in sorted(by_ino.items()) if len(ns) > 1]
    tp = task_paths(events)
    mnt_of = {}
    for pid, lst in tp.items():
        for p, fl in lst:
            if '/mnt/' in p:
                mnt_of[pid] = dict(name=p.split('/mnt', 1)[1], direct=bool(fl & 0o40000), openFlags=hex(fl))

    def name_of(w, evs, idx):
        w['writerName'] = mnt_of.get(w['pid'])
    locks = contentions(events, name_of)
    for a in locks.values():
        a['names'] = sorted({w['writerName']['name'] for w in a['waits'] if w.get('writerName')})
    markers = [e['body'] for e in events if e['name'] == 'tracing_mark_write']
    notes = []
    if not replies:
        alias = None
        notes.append('no reply uprobes in this trace: st_ino is not in evidence (aliasGroups null); '
                     'the -d log alone says nodeids, not on-disk inode numbers')
    return dict(fixture=path.split('/')[-1], log=log.split('/')[-1], notes=notes, eventLines=sum(cnt.values()),
                countsByTracepoint=cnt, stackFrameLines=frames,
                fuseRequests=dict(send=cnt.get('fuse_request_send', 0), end=cnt.get('fuse_request_end', 0),
                                  logRequests=len(reqs)),
                replyUprobes=replies,
                nodes={str(k): dict(paths=sorted(v['paths']), stIno=sorted(v['stIno'])) for k, v in sorted(nodes.items())},
                aliasGroups=alias, markers=markers,
                mntOpens={str(k): v for k, v in sorted(mnt_of.items())},
                lockContention=locks)


def main():
    path = sys.argv[1]
    events = parse(path)
    out = fuse2fs(path, events, sys.argv[2]) if len(sys.argv) > 2 else kernel_fs(path, events)
    dest = re.sub(r'\.txt$', '', path) + '.expected.json'
    with open(dest, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(dest)


if __name__ == '__main__':
    main()
