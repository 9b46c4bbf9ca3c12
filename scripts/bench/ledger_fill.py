#!/usr/bin/env python3
"""Adds terminal runs to an expt ledger for scripts/bench.sh, modelled on a real row.

    ledger_fill.py TEMPLATE_LEDGER TARGET_LEDGER RUNS_DIR WORKTREES_ROOT HEADS_FILE COUNT

TEMPLATE_LEDGER holds at least one run written by a real `expt launch` (and refreshed to its
end by `expt status`); its newest row is the model for every column. TARGET_LEDGER must
already exist (any expt command creates it) and have no runs yet. HEADS_FILE has one
'<branch> <commit>' line per experiment; runs are dealt to the branches round-robin, so each
branch gets COUNT/len(branches) runs with attempts 1, 2, 3... Ids are r1..rCOUNT and the
'run' counter is left at COUNT, so the next `expt launch` gets r<COUNT+1>: the live runs
launched afterwards are the newest of their branches, as in real use.

Each run gets a run directory with a 200-line stdout.log like a training job's, so
`expt status --all` (which reads progress from the end of every shown run's stdout) does the
same file work as on a real ledger.
"""
import json
import os
import random
import sqlite3
import sys
from datetime import datetime, timedelta, timezone

STATES = [  # (state, raw_state, exit_code, signal, reason, weight)
    ("succeeded", "COMPLETED", 0, None, None, 60),
    ("failed", "FAILED", 1, None, "the job exited with status 1", 20),
    ("cancelled", "CANCELLED", None, 15, "cancelled by the user", 8),
    ("timeout", "TIMEOUT", None, 9, "the job passed its time limit", 5),
    ("oom", "OUT_OF_MEMORY", None, 9, "the job went over its memory limit", 5),
    ("lost", "SUPERVISOR_GONE", None, None, "the supervisor process is gone and left no exit status", 2),
]


def iso(d):
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def main():
    template_db, target_db, runs_dir, wt_root, heads_file, count = sys.argv[1:7]
    count = int(count)
    rnd = random.Random(42)
    src = sqlite3.connect(template_db)
    src.row_factory = sqlite3.Row
    tmpl = dict(src.execute("SELECT * FROM runs ORDER BY seq DESC LIMIT 1").fetchone())
    src.close()
    spec = json.loads(tmpl["spec_json"])

    heads = [line.split() for line in open(heads_file) if line.strip()]
    db = sqlite3.connect(target_db)
    if db.execute("SELECT count(*) FROM runs").fetchone()[0]:
        sys.exit("ledger_fill.py: the target ledger already has runs")
    cols = list(tmpl.keys())
    now = datetime.now(timezone.utc)
    weights = [s[-1] for s in STATES]
    attempts = {}
    rows = []
    for seq in range(1, count + 1):
        branch, commit = heads[(seq - 1) % len(heads)]
        attempts[branch] = attempts.get(branch, 0) + 1
        rid = f"r{seq}"
        state, raw, code, sig, reason, _ = rnd.choices(STATES, weights)[0]
        created = now - timedelta(days=30) + timedelta(minutes=40 * seq)
        started = created + timedelta(seconds=2)
        ended = started + timedelta(seconds=rnd.randint(30, 3 * 3600))
        log_dir = os.path.join(runs_dir, rid)
        job_name = f"expt.{rid}.{branch.replace('/', '-')}"
        s = dict(spec, runID=rid, branch=branch, jobName=job_name, logDir=log_dir,
                 workdir=os.path.join(wt_root, branch))
        row = dict(tmpl)
        row.update(id=rid, seq=seq, branch=branch, attempt=attempts[branch],
                   parent_run=(f"r{seq - len(heads)}" if attempts[branch] > 1 and state != "succeeded" else None),
                   job_id=f"{rid}.{100000 + seq}", job_name=job_name, commit_sha=commit,
                   spec_json=json.dumps(s, sort_keys=True, separators=(",", ":")),
                   submitted_at=iso(created), started_at=iso(started), ended_at=iso(ended),
                   state=state, raw_state=raw, reason=reason, exit_code=code, signal=sig,
                   max_rss_mb=rnd.randint(50, 4000), log_dir=log_dir, diagnosis=None,
                   created_at=iso(created), updated_at=iso(ended))
        rows.append([row[c] for c in cols])
        os.makedirs(log_dir, exist_ok=True)
        total = rnd.randint(1000, 20000)
        with open(os.path.join(log_dir, "stdout.log"), "w") as f:
            for j in range(200):
                step = total * j // 200
                f.write(f"epoch {1 + j // 50}/4 step {step}/{total} loss {2.5 / (1 + j / 20):.4f} lr 3e-4\n")
        open(os.path.join(log_dir, "stderr.log"), "w").close()
    with db:
        db.executemany(f"INSERT INTO runs({', '.join(cols)}) VALUES({', '.join('?' * len(cols))})", rows)
        db.execute("INSERT INTO counters(name, value) VALUES('run', ?) "
                   "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (count,))
    db.close()
    print(f"ledger_fill.py: {count} terminal runs over {len(heads)} branches in {target_db}", file=sys.stderr)


if __name__ == "__main__":
    main()
