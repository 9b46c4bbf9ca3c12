#!/usr/bin/env python3
"""How the blind sets of docs/diagnosis.md were assembled from their collectors' directories,
kept as the record: one log per source URL (none in another set or test), the key line checked
against the file, and the split.
   scripts/blind-split.py SRC LETTERS DST hash    # Fixtures/blind: by SHA-1 of the URL, 3 in 4 frozen
   scripts/blind-split.py SRC LETTERS DST frozen  # Fixtures/blind2: all held out
   scripts/blind-split.py SRC LETTERS DST tuning  # Fixtures/blind3: all tuning data
(e.g. /tmp/blind ABCDEF, /tmp/blind2 PQRSTUVW, /tmp/blind3 JKLMNO)."""
import csv, hashlib, os, shutil, sys
from collections import Counter
src, letters, dst, mode = sys.argv[1:5]
used = [l.strip() for l in open(f"{src}/used-sources.txt") if l.strip()]
os.makedirs(dst, exist_ok=True)
rows, seen, dropped = [], set(), []
for letter in letters:
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
        split = mode if mode != "hash" else ("frozen" if int(hashlib.sha1(key.encode()).hexdigest(), 16) % 4 else "tuning")
        shutil.copy(f"{src}/{letter}/{r['file']}", f"{dst}/{r['file']}")
        rows.append([r["file"], r["label"], r["secondary_label"], r["key_evidence"], url, r["family"], split])
with open(f"{dst}/manifest.tsv", "w", encoding="utf-8") as f:
    f.write("file\tlabel\tsecondary_label\tkey_evidence\tsource\tfamily\tsplit\n")
    for r in sorted(rows): f.write("\t".join(x.replace("\t", " ") for x in r) + "\n")
print(len(rows), "logs;", Counter(r[6] for r in rows), "dropped:", dropped)
