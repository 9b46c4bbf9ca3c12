#!/usr/bin/env python3
"""Score an expt binary on a blind set (docs/diagnosis.md, "The blind protocol"), logs only:
   scripts/score-diagnosis.py BINARY Tests/ExptDiagnosisTests/Fixtures/blind2
Misses are printed for the tuning split only (--show-frozen prints them all)."""
import csv, json, subprocess, sys
from collections import Counter
binary, d = sys.argv[1], sys.argv[2]
show_frozen = len(sys.argv) > 3 and sys.argv[3] == "--show-frozen"
rows = list(csv.DictReader(open(d + "/manifest.tsv", encoding="utf-8"), delimiter="\t", quoting=csv.QUOTE_NONE))
score = Counter(); total = Counter(); failed_success = Counter(); decisive = Counter()
for r in rows:
    out = subprocess.run([binary, "diagnose", "--log", d + "/" + r["file"], "--json"], capture_output=True, text=True, cwd="/tmp")
    try: j = json.loads(out.stdout); got = j["category"]; ev = (j["evidence"] or [{}])[0].get("text", "")
    except Exception: got = "ERROR:" + out.stderr.strip()[:80]; ev = ""
    s = r["split"]; total[s] += 1
    if got == r["label"]: score[s] += 1
    elif s == "tuning" or show_frozen: print(f"  miss [{s}] {r['file']}: {r['label']} -> {got} | {ev[:100]}")
    if r["label"] != "success" and got == "success": failed_success[s] += 1
    k = r["key_evidence"].strip(); e = ev.strip()
    if e and (k in e or e in k): decisive[s] += 1
for s in sorted(total):
    print(f"{s}: top-1 {score[s]}/{total[s]} = {score[s]/total[s]:.3f}; failed logs called success: {failed_success[s]}; first evidence = decisive line: {decisive[s]}/{total[s]}")
