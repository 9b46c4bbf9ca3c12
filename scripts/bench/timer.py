#!/usr/bin/env python3
"""Times commands for scripts/bench.sh, alternating between cases, and appends one JSON line
per case to a results file.

    timer.py --bench ID --reps N [--warmup W] [--cwd DIR] --out FILE \
        --case LABEL CMD [--prep SH] [--after SH] [--vs LABEL] [--goal-ratio X] [--goal-ms MS] \
        [--case ...]

CMD is one command, or several joined by ' && ' (run one after the other, all timed together,
stopping at the first failure). Each is split with shlex and executed directly, with no shell,
so the time is that of the measured processes only (plus a fork/exec, as for every case).
--prep and --after are bash snippets run, untimed, before and after every repetition.
'{i}' in CMD, --prep and --after is replaced by the repetition number (warm-ups count too, so
names stay unique). stdout/stderr of CMD are discarded; a failing CMD aborts with its output.
Repetitions alternate between cases (A1 B1 A2 B2 ...) so drift hits every case alike.
"""
import json
import os
import shlex
import statistics
import subprocess
import sys
import time


def parse(argv):
    opts = {"reps": 5, "warmup": 1, "cwd": None, "out": None, "bench": None}
    cases = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--case":
            cases.append({"label": argv[i + 1], "cmd": argv[i + 2], "prep": None, "after": None,
                          "vs": None, "goal_ratio": None, "goal_ms": None})
            i += 3
            continue
        key = a[2:].replace("-", "_")
        val = argv[i + 1]
        i += 2
        if cases and key in ("prep", "after", "vs"):
            cases[-1][key] = val
        elif cases and key in ("goal_ratio", "goal_ms"):
            cases[-1][key] = float(val)
        elif key in ("reps", "warmup"):
            opts[key] = int(val)
        elif key in opts:
            opts[key] = val
        else:
            sys.exit(f"timer.py: unknown option {a}")
    if not cases or not opts["out"] or not opts["bench"]:
        sys.exit("timer.py: need --bench, --out and at least one --case")
    return opts, cases


def sh(snippet, cwd, i):
    if snippet:
        r = subprocess.run(["bash", "-c", snippet.replace("{i}", str(i))], cwd=cwd,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            sys.exit(f"timer.py: step failed ({r.returncode}): {snippet}\n{r.stdout}")


def run_timed(cmd, cwd, i):
    argvs = [shlex.split(part) for part in cmd.replace("{i}", str(i)).split(" && ")]
    start = time.perf_counter()
    for argv in argvs:
        r = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            sys.exit(f"timer.py: command failed ({r.returncode}): {' '.join(argv)}\n"
                     f"{r.stderr.decode(errors='replace')}")
    return (time.perf_counter() - start) * 1000.0


def main():
    opts, cases = parse(sys.argv[1:])
    samples = {c["label"]: [] for c in cases}
    n = opts["warmup"] + opts["reps"]
    for i in range(n):
        for c in cases:
            sh(c["prep"], opts["cwd"], i)
            ms = run_timed(c["cmd"], opts["cwd"], i)
            sh(c["after"], opts["cwd"], i)
            if i >= opts["warmup"]:
                samples[c["label"]].append(ms)
    medians = {label: statistics.median(s) for label, s in samples.items()}
    with open(opts["out"], "a") as out:
        for c in cases:
            s = samples[c["label"]]
            rec = {"bench": opts["bench"], "label": c["label"], "cmd": c["cmd"],
                   "median_ms": medians[c["label"]], "min_ms": min(s), "max_ms": max(s),
                   "samples_ms": [round(x, 2) for x in s], "n": len(s)}
            if c["vs"]:
                rec["vs"] = c["vs"]
                rec["ratio"] = medians[c["label"]] / medians[c["vs"]]
            if c["goal_ratio"] is not None:
                rec["goal_ratio"] = c["goal_ratio"]
            if c["goal_ms"] is not None:
                rec["goal_ms"] = c["goal_ms"]
            out.write(json.dumps(rec) + "\n")
            extra = f"  ({rec['ratio']:.2f}x {c['vs']})" if c["vs"] else ""
            print(f"  {opts['bench']:<12} {c['label']:<44} median {rec['median_ms']:9.1f} ms"
                  f"  min {rec['min_ms']:9.1f}{extra}", file=sys.stderr)


if __name__ == "__main__":
    main()
