#!/usr/bin/env python3
"""Deterministic filler for scripts/bench.sh (not a test; no dependencies beyond Python 3.9).

  bench-gen.py packages DIR TOTAL_BYTES SEED
      writes DIR/filler-NNNN-1.0-1.x86_64.rpm files of 1-4 MiB each (incompressible
      pseudo-random bytes) until TOTAL_BYTES is reached; prints the file count.
  bench-gen.py cpio RAW_BYTES SEED
      writes to stdout a cpio newc archive (root-owned dirs, files, a symlink, a
      device-less tree) of about RAW_BYTES whose file content compresses about 2:1,
      like a real installer root. Pipe it to `bzip2 -9` for an install.img.
"""
import random
import sys

MIB = 1 << 20


def packages(d, total, seed):
    r = random.Random(f"pkgs-{seed}")
    done = n = 0
    while done < total:
        size = min(r.randint(1 * MIB, 4 * MIB), max(total - done, 64 * 1024))
        with open(f"{d}/filler-{n:04d}-1.0-1.x86_64.rpm", "wb") as f:
            # RPM lead magic so `file` and casual readers see an rpm; the rest is noise.
            f.write(b"\xed\xab\xee\xdb\x03\x00\x00\x00")
            left = size - 8
            while left:
                k = min(left, MIB)
                f.write(r.randbytes(k))
                left -= k
        done += size
        n += 1
    print(n)


def cpio(raw, seed):
    r = random.Random(f"cpio-{seed}")
    out = sys.stdout.buffer
    ino = [1000]

    def entry(name, mode, data=b"", nlink=1, size=None):
        ino[0] += 1
        size = len(data) if size is None else size
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join(
            f"{v:08X}"
            for v in (ino[0], mode, 0, 0, nlink, 1700000000, size, 0, 0, 0, 0, len(nb), 0)
        )
        out.write(hdr.encode() + nb)
        out.write(b"\0" * ((4 - (110 + len(nb)) % 4) % 4))
        return size

    def pad(size):
        out.write(b"\0" * ((4 - size % 4) % 4))

    for d in ("bin", "etc", "usr", "usr/lib", "usr/lib/modules", "usr/share"):
        entry(d, 0o040755, nlink=2)
    entry("etc/shadow", 0o100000, b"root:*:19000:0:99999:7:::\n")
    pad(26)
    entry("init", 0o120777, b"bin/busybox")
    pad(11)
    done = n = 0
    while done < raw:
        size = min(r.randint(64 * 1024, 3 * MIB), max(raw - done, 1))
        entry(f"usr/lib/modules/blob-{n:04d}.ko", 0o100644, size=size)
        left = size
        while left:
            k = min(left, MIB)
            # hex text of random bytes: 4 bits of entropy per byte, compresses ~2:1
            out.write(r.randbytes((k + 1) // 2).hex().encode()[:k])
            left -= k
        pad(size)
        done += size
        n += 1
    entry("TRAILER!!!", 0, nlink=1)
    out.flush()


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "packages":
        packages(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "cpio":
        cpio(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
