#!/usr/bin/env python3
"""How Fixtures/blind2 (the held-out set) was assembled from its collectors' directories, kept as
the record: one log per source URL, none shared with Fixtures/blind or any other test; all held out."""
import csv, hashlib, os, shutil, sys
src = "/tmp/blind2"; dst = sys.argv[1]
used = [l.strip() for l in open(f"{src}/used-sources.txt") if l.strip()]
os.makedirs(dst, exist_ok=True)
rows, seen, dropped = [], set(), []
for letter in "PQRSTUVW":
    m = f"{src}/{letter}/manifest.tsv"
    if not os.path.exists(m): continue
    for r in csv.DictReader(open(m, encoding="utf-8"), delimiter="\t", quoting=csv.QUOTE_NONE):
        url = r["source"].strip().rstrip("/")
        key = url.split("#")[0]
        if key in seen: dropped.append((r["file"], "duplicate source")); continue
        if any(u.rstrip("/") == key or (len(u) > 25 and u in url) for u in used): dropped.append((r["file"], "used source")); continue
        text = open(f"{src}/{letter}/{r['file']}", encoding="utf-8", errors="replace").read()
        if r["key_evidence"] not in text: dropped.append((r["file"], "key evidence not in file")); continue
        seen.add(key)
        split = "frozen"  # the whole second set is held out
        shutil.copy(f"{src}/{letter}/{r['file']}", f"{dst}/{r['file']}")
        rows.append([r["file"], r["label"], r["secondary_label"], r["key_evidence"], url, r["family"], split])
with open(f"{dst}/manifest.tsv", "w", encoding="utf-8") as f:
    f.write("file\tlabel\tsecondary_label\tkey_evidence\tsource\tfamily\tsplit\n")
    for r in sorted(rows): f.write("\t".join(x.replace("\t", " ") for x in r) + "\n")
from collections import Counter
print(len(rows), "logs;", Counter(r[6] for r in rows), "dropped:", dropped)
print(Counter((r[6], r[1]) for r in rows))
