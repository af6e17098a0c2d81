#!/usr/bin/env python3
"""Write a cpio "newc" (SVR4, no CRC) archive of a directory, without root.

Like `(cd DIR && find . | cpio -o -H newc)` but reproducible and able to add
entries an ordinary user cannot create on disk (device nodes, files owned by
other users, root-only modes) from a small spec file.

Usage: mkcpio.py [--spec FILE] [--mtime EPOCH] DIR > out.cpio

Every entry is owned by 0:0 and gets mtime EPOCH (default $SOURCE_DATE_EPOCH,
else 0). Entries are written in sorted pre-order, names without a leading
"./" (the root is "."), exactly as GNU cpio names them. Hard links inside DIR
(same st_ino) become a newc hard-link group: shared inode number, nlink =
group size, data stored with the LAST member only (GNU cpio's convention; the
kernel's initramfs unpacker accepts it).

Spec lines (blank lines and '#' comments ignored; MODE is octal permission
bits, UID/GID decimal):
  nod  PATH MODE UID GID c|b MAJOR MINOR   add a character/block device node
  fifo PATH MODE UID GID                   add a named pipe
  dir  PATH MODE UID GID                   add (or re-own) a directory
  meta PATH MODE UID GID                   override mode/owner of a DIR entry
Parents of added entries must exist (in DIR or earlier in the spec).
"""

import argparse
import os
import stat
import sys

TRAILER = "TRAILER!!!"


def pad4(n):
    return (4 - n % 4) % 4


class Entry:
    __slots__ = ("name", "mode", "uid", "gid", "nlink", "mtime", "data",
                 "rdevmajor", "rdevminor", "ino", "src_key")

    def __init__(self, name, mode, uid=0, gid=0, data=b"", rdev=(0, 0)):
        self.name = name
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.nlink = 1
        self.mtime = 0
        self.data = data
        self.rdevmajor, self.rdevminor = rdev
        self.ino = 0
        self.src_key = None


def header(e, size):
    fields = [
        e.ino, e.mode, e.uid, e.gid, e.nlink, e.mtime, size,
        0, 0,                   # devmajor, devminor of the archived fs
        e.rdevmajor, e.rdevminor,
        len(e.name.encode()) + 1,
        0,                      # check (unused in newc)
    ]
    for v in fields:
        if v < 0 or v > 0xFFFFFFFF:
            raise ValueError(f"{e.name}: header field out of range: {v}")
    return ("070701" + "".join(f"{v:08X}" for v in fields)).encode("ascii")


def write_entry(out, e, data):
    name = e.name.encode() + b"\0"
    hdr = header(e, len(data)) + name
    out.write(hdr)
    out.write(b"\0" * pad4(len(hdr)))
    out.write(data)
    out.write(b"\0" * pad4(len(data)))
    return len(hdr) + pad4(len(hdr)) + len(data) + pad4(len(data))


def scan(root):
    """Yield Entry objects for root in sorted pre-order."""
    entries = []

    def visit(path, name):
        st = os.lstat(path)
        m = st.st_mode
        if stat.S_ISDIR(m):
            e = Entry(name, m)
            entries.append(e)
            for child in sorted(os.listdir(path)):
                cname = child if name == "." else name + "/" + child
                visit(os.path.join(path, child), cname)
        elif stat.S_ISREG(m):
            with open(path, "rb") as f:
                e = Entry(name, m, data=f.read())
            if st.st_nlink > 1:
                e.src_key = (st.st_dev, st.st_ino)
            entries.append(e)
        elif stat.S_ISLNK(m):
            e = Entry(name, m, data=os.readlink(path).encode())
            entries.append(e)
        elif stat.S_ISFIFO(m):
            entries.append(Entry(name, m))
        else:
            raise SystemExit(f"mkcpio: unsupported file type: {path}")

    visit(root, ".")
    return entries


def norm(path):
    p = path.strip("/")
    while p.startswith("./"):
        p = p[2:]
    return p or "."


def apply_spec(entries, spec_path):
    by_name = {e.name: e for e in entries}
    with open(spec_path) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            w = line.split()
            where = f"{spec_path}:{lineno}"
            try:
                kind, path = w[0], norm(w[1])
                perm, uid, gid = int(w[2], 8), int(w[3]), int(w[4])
            except (IndexError, ValueError):
                raise SystemExit(f"mkcpio: {where}: bad line: {raw.rstrip()}")
            if perm & ~0o7777:
                raise SystemExit(f"mkcpio: {where}: mode must be permission bits")
            if kind == "meta":
                if path not in by_name:
                    raise SystemExit(f"mkcpio: {where}: no such entry: {path}")
                e = by_name[path]
                e.mode = stat.S_IFMT(e.mode) | perm
                e.uid, e.gid = uid, gid
                continue
            if kind == "nod":
                if len(w) != 8 or w[5] not in ("c", "b"):
                    raise SystemExit(f"mkcpio: {where}: nod needs c|b MAJOR MINOR")
                ftype = stat.S_IFCHR if w[5] == "c" else stat.S_IFBLK
                e = Entry(path, ftype | perm, uid, gid, rdev=(int(w[6]), int(w[7])))
            elif kind == "fifo":
                e = Entry(path, stat.S_IFIFO | perm, uid, gid)
            elif kind == "dir":
                if path in by_name:
                    old = by_name[path]
                    if not stat.S_ISDIR(old.mode):
                        raise SystemExit(f"mkcpio: {where}: {path} is not a directory")
                    old.mode = stat.S_IFDIR | perm
                    old.uid, old.gid = uid, gid
                    continue
                e = Entry(path, stat.S_IFDIR | perm, uid, gid)
            else:
                raise SystemExit(f"mkcpio: {where}: unknown kind {kind!r}")
            if path in by_name:
                raise SystemExit(f"mkcpio: {where}: {path} already exists")
            parent = path.rsplit("/", 1)[0] if "/" in path else "."
            if parent not in by_name or not stat.S_ISDIR(by_name[parent].mode):
                raise SystemExit(f"mkcpio: {where}: parent directory missing: {parent}")
            by_name[path] = e
            entries.append(e)
    # keep pre-order: sort by path components so a dir precedes its contents
    entries.sort(key=lambda e: [] if e.name == "." else e.name.split("/"))


def finish(entries, mtime):
    # directory link counts: 2 + number of subdirectories
    subdirs = {}
    for e in entries:
        if stat.S_ISDIR(e.mode) and e.name != ".":
            parent = e.name.rsplit("/", 1)[0] if "/" in e.name else "."
            subdirs[parent] = subdirs.get(parent, 0) + 1
    groups = {}
    ino = 0
    for e in entries:
        e.mtime = mtime
        if stat.S_ISDIR(e.mode):
            e.nlink = 2 + subdirs.get(e.name, 0)
        if e.src_key is not None:
            groups.setdefault(e.src_key, []).append(e)
            if len(groups[e.src_key]) > 1:
                e.ino = groups[e.src_key][0].ino
                continue
        ino += 1
        e.ino = ino
    last_of_group = set()
    for members in groups.values():
        for m in members:
            m.nlink = len(members)
        last_of_group.add(id(members[-1]))
    return {id(m) for ms in groups.values() for m in ms}, last_of_group


def main():
    ap = argparse.ArgumentParser(description="write a reproducible newc cpio archive")
    ap.add_argument("dir")
    ap.add_argument("--spec")
    ap.add_argument("--mtime", type=int,
                    default=int(os.environ.get("SOURCE_DATE_EPOCH", "0")))
    args = ap.parse_args()
    if not os.path.isdir(args.dir):
        raise SystemExit(f"mkcpio: not a directory: {args.dir}")
    entries = scan(args.dir)
    if args.spec:
        apply_spec(entries, args.spec)
    linked, last = finish(entries, args.mtime)
    out = sys.stdout.buffer
    total = 0
    for e in entries:
        data = e.data
        if id(e) in linked and id(e) not in last:
            data = b""
        total += write_entry(out, e, data)
    t = Entry(TRAILER, 0)
    t.nlink = 1
    total += write_entry(out, t, b"")
    out.write(b"\0" * ((512 - total % 512) % 512))  # GNU cpio block padding
    out.flush()


if __name__ == "__main__":
    main()
