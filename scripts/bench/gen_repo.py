#!/usr/bin/env python3
"""Writes `git fast-import` streams for scripts/bench.sh.

    gen_repo.py files N                    one commit on refs/heads/main with N small text files,
                                           100 per directory, two directory levels
    gen_repo.py write DIR N                writes the same N files as `files` into DIR (no git):
                                           the floor of any checkout of that tree
    gen_repo.py branches SHA COUNT PREFIX  COUNT branches PREFIX1..PREFIXCOUNT, each one commit
                                           on top of SHA adding docs/<branch>.md (an expt branch doc)
"""
import os
import sys

AUTHOR = "Bench <bench@example.invalid> 1700000000 +0000"


def data(text):
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


def path_of(k):
    d1, d2 = k // 1000, (k // 100) % 10
    return f"src/pkg{d1:02d}/mod{d2}/file{k:05d}.txt"


def body_of(k):
    return "".join(f"file {k} line {j}: the quick brown fox jumps over the lazy dog\n" for j in range(8))


def write(root, n):
    for k in range(n):
        path = os.path.join(root, path_of(k))
        if k % 100 == 0:
            os.makedirs(os.path.dirname(path))
        with open(path, "w") as f:
            f.write(body_of(k))


def files(n):
    out = sys.stdout.buffer
    out.write(b"commit refs/heads/main\n")
    out.write(b"author " + AUTHOR.encode() + b"\ncommitter " + AUTHOR.encode() + b"\n")
    out.write(data(f"Benchmark tree: {n} files"))
    for k in range(n):
        out.write(f"M 100644 inline {path_of(k)}\n".encode())
        out.write(data(body_of(k)))
    out.write(b"\n")


def branches(sha, count, prefix):
    out = sys.stdout.buffer
    for k in range(1, count + 1):
        name = f"{prefix}{k}"
        out.write(f"commit refs/heads/{name}\n".encode())
        out.write(b"author " + AUTHOR.encode() + b"\ncommitter " + AUTHOR.encode() + b"\n")
        out.write(data(f"Start experiment {name}\n\nExpt-Base: main\n"))
        out.write(f"from {sha}\n".encode())
        doc = (f"# {name}\n\n## Hypothesis\n\nbenchmark experiment {k}\n\n## Setup\n\n## Results\n\n"
               f"## Fixes\n\n## Conclusion\n")
        out.write(f"M 100644 inline docs/{name}.md\n".encode())
        out.write(data(doc))
        out.write(b"\n")


if __name__ == "__main__":
    if sys.argv[1] == "files":
        files(int(sys.argv[2]))
    elif sys.argv[1] == "write":
        write(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "branches":
        branches(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(__doc__)
