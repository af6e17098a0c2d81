#!/usr/bin/env python3
"""Deterministic filler for scripts/bench.sh (not a test; no dependencies beyond Python 3.9).

  bench-gen.py payloads DIR TOTAL_BYTES SEED
      writes DIR/NNNN.bin files of 1-4 MiB each (incompressible pseudo-random bytes)
      until TOTAL_BYTES is reached; prints the file count (bench.sh packs each into a
      filler RPM with rpmbuild).
  bench-gen.py installer RAW_BYTES SEED
      writes to stdout an installer root as ONE cpio newc archive of about RAW_BYTES
      (a few thousand root-owned files in a few hundred directories, symlinks, a hard-link
      pair, etc/shadow mode 0400, etc/xiso-marker) whose content compresses about 3:1 with
      `bzip2 -9` (text, ELF-like, already-compressed and sparse files of lognormal sizes).
      Pipe it to `bzip2 -9` for an install.img. Prints the entry count on stderr.
  bench-gen.py cpio-find NAME < archive
      reads concatenated cpio newc archives (as the kernel does: zero padding between
      them) and prints the archive count, a newline, then the data of the LAST entry
      NAME (or ./NAME); exit 1 when absent, other non-zero on a malformed stream.
"""
import math
import random
import sys

MIB = 1 << 20


def payloads(d, total, seed):
    """Incompressible 1-4 MiB files d/NNNN.bin (the payloads of the filler RPMs)."""
    r = random.Random(f"pkgs-{seed}")
    done = n = 0
    while done < total:
        size = min(r.randint(1 * MIB, 4 * MIB), max(total - done, 64 * 1024))
        with open(f"{d}/{n:04d}.bin", "wb") as f:
            left = size
            while left:
                k = min(left, MIB)
                f.write(r.randbytes(k))
                left -= k
        done += size
        n += 1
    print(n)


# ---------------------------------------------------------------- install.img content
LETTERS = "etaoinshrdlucmfwypvbgkjqxz_etaoinshrdlu0123456789"
SEPS = [" "] * 14 + ["\n", ", ", ".\n", " = ", "(", ") ", "\n    ", ": ", "/", "_", "-", "\n\t", "\n\n"]
TABLE = 1 << 16


def pseudo_word(r, lengths=(1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9, 10, 12, 14)):
    return "".join(r.choice(LETTERS) for _ in range(r.choice(lengths)))


def zipf_table(r, toks, s=1.0):
    """TABLE entries, token i repeated in proportion to 1/(i+1)**s, shuffled: a uniform
    16-bit index into it draws tokens with a Zipf distribution."""
    w = [1 / (i + 1) ** s for i in range(len(toks))]
    k = TABLE / sum(w)
    tab = []
    for t, x in zip(toks, w):
        tab += [t] * max(1, round(x * k))
    del tab[TABLE:]
    while len(tab) < TABLE:
        tab.append(r.choice(toks))
    r.shuffle(tab)
    return tab, sum(map(len, tab)) // TABLE


class Content:
    """Deterministic file content of four kinds, with their bzip2 -9 ratios inside the
    archive: text ~4.3:1 (Zipf words over one 8000-word vocabulary: scripts, docs, configs),
    binary ~2.8:1 (Zipf "instructions" over 2000 short byte strings, zero padding, random
    tables and string sections: ELF files), noise 1:1 (already compressed: .ko.xz,
    firmware) and sparse > 100:1 (zero pages with a few records: rpmdb, locale-archive).
    With the GROUPS shares the archive compresses ~3.0:1."""

    def __init__(self, seed):
        r = random.Random(f"tables-{seed}")
        self.text = zipf_table(r, [(pseudo_word(r) + r.choice(SEPS)).encode() for _ in range(8000)])
        self.code = zipf_table(r, [r.randbytes(r.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8)))
                                   for _ in range(2000)], 1.1)

    @staticmethod
    def tokens(r, table, n):
        tab, mean = table
        out, got = [], 0
        while got < n:
            k = min((n - got) // mean + 16, 1 << 16)
            # C-speed: the random bytes, as uint16 indexes, pick the tokens
            chunk = b"".join(map(tab.__getitem__, memoryview(r.randbytes(2 * k)).cast("H")))
            out.append(chunk)
            got += len(chunk)
        return b"".join(out)[:n]

    def make(self, kind, r, n):
        if kind == "text":
            return self.tokens(r, self.text, n)
        if kind == "noise":
            return (b"\xfd7zXZ\x00" + r.randbytes(n))[:n]
        out = [b"\x7fELF\x02\x01\x01\x00" if kind == "binary" else b""]
        got = len(out[0])
        code, text = self.code, self.text
        while got < n:
            c = r.random()
            if kind == "sparse":
                part = bytes(r.randint(1024, 32768)) if c < 0.9 else self.tokens(r, text, r.randint(64, 2048))
            elif c < 0.65:
                part = self.tokens(r, code, r.randint(512, 16384))
            elif c < 0.80:
                part = bytes(r.randint(16, 4096))
            elif c < 0.88:
                part = r.randbytes(r.randint(64, 4096))
            else:
                part = self.tokens(r, text, r.randint(256, 8192))
            out.append(part)
            got += len(part)
        return b"".join(out)[:n]


# share of the uncompressed bytes, content kind, directory, sub-directories (count, max depth),
# name suffix, size median, lognormal sigma, min, max, mode. "one" = a single file of that share.
KIB, MIBF = 1024, 1 << 20
GROUPS = [
    (0.20, "text", "usr/lib/python2.7/site-packages", 60, 2, ".py", 24 * KIB, 1.1, 200, MIBF, 0o644),
    (0.10, "text", "usr/share/doc", 120, 1, "", 16 * KIB, 1.3, 100, MIBF, 0o644),
    (0.04, "text", "opt/xensource/installer", 0, 0, ".py", 32 * KIB, 0.8, 500, MIBF, 0o644),
    (0.03, "text", "etc", 25, 1, ".conf", 4 * KIB, 1.2, 40, 256 * KIB, 0o644),
    (0.03, "text", "usr/share", 15, 1, ".dat", 64 * KIB, 1.5, 100, 4 * MIBF, 0o644),
    (0.20, "binary", "usr/lib64", 0, 0, ".so", 96 * KIB, 1.4, 4 * KIB, 24 * MIBF, 0o755),
    (0.12, "binary", "usr/bin", 0, 0, "", 64 * KIB, 1.4, 4 * KIB, 16 * MIBF, 0o755),
    (0.06, "binary", "usr/sbin", 0, 0, "", 64 * KIB, 1.4, 4 * KIB, 16 * MIBF, 0o755),
    (0.05, "binary", "usr/libexec", 15, 1, "", 64 * KIB, 1.4, 4 * KIB, 8 * MIBF, 0o755),
    (0.05, "noise", "usr/lib/modules/4.19.0+1/kernel", 40, 3, ".ko.xz", 24 * KIB, 1.0, 2 * KIB, MIBF, 0o644),
    (0.03, "noise", "usr/lib/firmware", 15, 1, ".bin", 256 * KIB, 1.2, 4 * KIB, 4 * MIBF, 0o644),
    (0.04, "sparse", "var/lib/rpm/Packages", 0, 0, "one", 0, 0, 0, 0, 0o644),
    (0.03, "sparse", "usr/lib/locale/locale-archive", 0, 0, "one", 0, 0, 0, 0, 0o644),
]
MARKER = b"xiso-bench original marker\n"


def installer_entries(raw, seed):
    """The installer root as a sorted list of (name, mode, size, kind, target, ino_key)."""
    r = random.Random(f"tree-{seed}")
    ents = {}  # name -> [mode, size, kind, data-or-symlink-target, link-key]

    def add(name, mode, size=0, kind=None, target=None, key=None):
        parts = name.split("/")
        for i in range(1, len(parts)):
            ents.setdefault("/".join(parts[:i]), [0o040755, 0, None, None, None])
        ents[name] = [mode, size, kind, target, key]

    def unique(d, stem, suffix):
        name, i = f"{d}/{stem}{suffix}", 1
        while name in ents:
            name, i = f"{d}/{stem}-{i}{suffix}", i + 1
        return name

    ents["."] = [0o040755, 0, None, None, None]
    for d in ("dev", "proc", "sys", "run", "mnt", "var/log", "usr/lib/systemd"):
        add(d, 0o040755)
    add("tmp", 0o041777)
    add("var/tmp", 0o041777)
    add("root", 0o040550)
    for l in ("bin", "sbin", "lib", "lib64"):
        add(l, 0o120777, target=f"usr/{l}".encode())
    add("init", 0o120777, target=b"usr/lib/systemd/systemd")
    add("usr/lib/systemd/systemd", 0o100755, 1536 * KIB, "binary")
    add("etc/shadow", 0o100400, target=b"root:*:19000:0:99999:7:::\n")
    add("etc/passwd", 0o100644, target=b"root:x:0:0:root:/root:/bin/bash\n")
    add("etc/xiso-marker", 0o100644, target=MARKER)
    # a hard-link pair (newc: shared inode, data with the last member)
    add("usr/bin/gunzip", 0o100755, 96 * KIB, "binary", key="gzip")
    add("usr/bin/gzip", 0o100755, 96 * KIB, "binary", key="gzip")
    for share, kind, base, ndirs, depth, suffix, med, sigma, lo, hi, mode in GROUPS:
        budget = int(raw * share)
        if suffix == "one":
            add(base, 0o100000 | mode, budget, kind)
            continue
        dirs = [base]
        for _ in range(ndirs):
            d = "/".join([base] + [pseudo_word(r, (3, 4, 5, 6, 7, 8, 9, 10))
                                   for _ in range(r.randint(1, depth))])
            if d not in ents:  # else an existing file or directory: skip
                add(d, 0o040755)
                dirs.append(d)
        while budget > 0:
            size = min(max(int(r.lognormvariate(math.log(med), sigma)), lo), hi, budget)
            budget -= size
            d, stem = r.choice(dirs), pseudo_word(r, (3, 4, 5, 6, 7, 8, 9, 10, 12))
            if suffix == ".so":
                ver = f".so.{r.randint(0, 9)}"
                name = unique(d, "lib" + stem, f"{ver}.{r.randint(0, 20)}.{r.randint(0, 9)}")
                add(name, 0o100000 | mode, size, kind)
                add(unique(d, "lib" + stem, ver), 0o120777, target=name.rsplit("/", 1)[1].encode())
            else:
                add(unique(d, stem, suffix), 0o100000 | mode, size, kind)
    return sorted(ents.items(), key=lambda kv: [] if kv[0] == "." else kv[0].split("/"))


def installer(raw, seed):
    """Write the installer root as one cpio newc archive (GNU cpio's layout) to stdout."""
    out = sys.stdout.buffer
    content = Content(seed)
    ents = installer_entries(raw, seed)
    links = {}
    for name, (mode, size, kind, target, key) in ents:
        if key:
            links.setdefault(key, []).append(name)
    inos, pos = {}, 0
    for ino, (name, (mode, size, kind, target, key)) in enumerate(ents, 1):
        nlink = 1
        if key:
            ino = inos.setdefault(key, ino)
            nlink = len(links[key])
            if name != links[key][-1]:
                size, kind = 0, None
        if kind:
            data = content.make(kind, random.Random(f"{seed}:{name}"), size)
        else:
            data = target or b""
        if mode & 0o170000 == 0o040000:
            nlink = 2
        nb = name.encode() + b"\0"
        hdr = ("070701" + "".join(f"{v:08X}" for v in (
            ino, mode, 0, 0, nlink, 1700000000, len(data), 0, 0, 0, 0, len(nb), 0))).encode() + nb
        hdr += b"\0" * ((4 - len(hdr) % 4) % 4)
        out.write(hdr)
        out.write(data)
        out.write(b"\0" * ((4 - len(data) % 4) % 4))
        pos += len(hdr) + len(data) + (4 - len(data) % 4) % 4
    nb = b"TRAILER!!!\0"
    hdr = ("070701" + "".join(f"{v:08X}" for v in (0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, len(nb), 0))).encode() + nb
    hdr += b"\0" * ((4 - len(hdr) % 4) % 4)
    pos += len(hdr)
    out.write(hdr + b"\0" * ((512 - pos % 512) % 512))
    out.flush()
    print(f"{len(ents)} entries, {sum(1 for e in ents if e[1][0] & 0o170000 == 0o100000)} files",
          file=sys.stderr)


def cpio_find(name):
    """Read concatenated cpio newc archives (the kernel's initramfs rules: zero padding between
    them) from stdin; print the number of archives, then the data of the LAST entry called
    NAME (or ./NAME). Exit 1 when it is absent, 2 on a malformed stream."""
    inp = sys.stdin.buffer
    pos = archives = 0
    found = None

    def read(n):
        nonlocal pos
        b = inp.read(n)
        if len(b) != n:
            fail(f"truncated archive at offset {pos + len(b)}")
        pos += n
        return b

    def skip(n):
        while n:
            read(min(n, MIB))
            n -= min(n, MIB)

    def fail(msg):
        print(f"cpio-find: {msg}", file=sys.stderr)
        sys.exit(2)

    in_archive = False
    while True:
        if not in_archive:
            # between archives: zero padding, then a magic or the end
            while True:
                b = inp.peek(1)[:1]
                if not b or b != b"\0":
                    break
                read(1)
            if not inp.peek(1)[:1]:
                break
            if pos % 4:
                fail(f"archive {archives + 1} at offset {pos} is not 4-aligned")
            archives += 1
            in_archive = True
        hdr = read(110)
        if hdr[:6] not in (b"070701", b"070702"):
            fail(f"bad magic {hdr[:6]!r} at offset {pos - 110}")
        f = [int(hdr[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        size, namesize = f[6], f[11]
        n = read(namesize)[:-1].decode("utf-8", "replace")
        skip((4 - pos % 4) % 4)
        if n == "TRAILER!!!":
            in_archive = False
            continue
        if n in (name, "./" + name):
            found = read(size)
        else:
            skip(size)
        skip((4 - pos % 4) % 4)
    if in_archive:
        fail("archive without TRAILER!!!")
    sys.stdout.buffer.write(f"{archives}\n".encode())
    if found is None:
        sys.exit(1)
    sys.stdout.buffer.write(found)

def main():
    if len(sys.argv) == 5 and sys.argv[1] == "payloads":
        payloads(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "installer":
        installer(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "cpio-find":
        cpio_find(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
