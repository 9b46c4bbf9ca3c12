#!/usr/bin/env python3
"""Prints the results of scripts/bench.sh (timer.py's JSON lines) as a markdown table.

    report.py RESULTS.jsonl [NOTES.txt]
"""
import json
import sys


def fmt_ms(ms):
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.1f} ms"


def main():
    recs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    recs.sort(key=lambda r: r["bench"])  # stable: cases keep their order within a benchmark
    print("| Benchmark | Command | Median | Min | Max | n | Ratio | Goal | Met |")
    print("|---|---|---:|---:|---:|---:|---:|---|---|")
    met_all = True
    for r in recs:
        if "check" in r:
            # A goal that is not a timing (scripts/bench.sh `check`): its value, goal and verdict.
            met_all = met_all and r["met"]
            print(f"| {r['bench']} | {r['label']} | {r['value']} | | | | | {r['goal']} | {'yes' if r['met'] else '**no**'} |")
            continue
        ratio = f"{r['ratio']:.2f}× {r['vs']}" if "ratio" in r else ""
        goal, met = "", ""
        if "goal_ratio" in r:
            goal = f"≤ {r['goal_ratio']:g}× {r['vs']}"
            ok = r["ratio"] <= r["goal_ratio"]
        elif "goal_ms" in r:
            goal = f"< {r['goal_ms']:.0f} ms"
            ok = r["median_ms"] < r["goal_ms"]
        else:
            ok = None
        if ok is not None:
            met = "yes" if ok else "**no**"
            met_all = met_all and ok
        print(f"| {r['bench']} | `{r['label']}` | {fmt_ms(r['median_ms'])} | {fmt_ms(r['min_ms'])} | "
              f"{fmt_ms(r['max_ms'])} | {r['n']} | {ratio} | {goal} | {met} |")
    if len(sys.argv) > 2:
        try:
            notes = open(sys.argv[2]).read().strip()
        except FileNotFoundError:
            notes = ""
        if notes:
            print("\nNotes:\n")
            for line in notes.splitlines():
                print(f"- {line}")
    print(f"\nAll goals met: {'yes' if met_all else 'no'}")


if __name__ == "__main__":
    main()
