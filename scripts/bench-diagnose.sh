#!/usr/bin/env bash
# Benchmarks ExptDiagnosis: a 4 GiB training log with a CUDA OOM at the end, and a 1,000-task
# array. Data goes to /tmp (never the repo); the measurements are XCTests (BenchmarkTests),
# skipped unless EXPT_BENCH=1, built in release in their own scratch dir.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${EXPT_BENCH_DIR:-/tmp/expt-bench}"
log="$dir/train-4g.log"
array="$dir/array"
mkdir -p "$dir" "$array"

if [ ! -f "$log" ] || [ "$(stat -c %s "$log")" -lt $((4 << 30)) ]; then
  echo "writing $log (4 GiB)..." >&2
  python3 - "$log" <<'PY'
import sys, random
path = sys.argv[1]
random.seed(7)
lines = []
step = 0
while sum(len(l) for l in lines) < (1 << 20):
    step += 1
    lines.append(f"[2025-03-01 12:{step % 60:02d}:{step % 60:02d},{step % 1000:03d}][train][INFO] - epoch 3 "
                 f"step {step}/500000 loss={random.uniform(0.3, 0.6):.4f} lr=3.0e-04 grad_norm={random.uniform(0.5, 2):.2f} "
                 f"tokens/s={random.randint(48000, 52000)} mem=38.2GB\n")
block = "".join(lines).encode()
tail = b"""Traceback (most recent call last):
  File "train.py", line 412, in <module>
    main()
  File "train.py", line 388, in train_step
    loss.backward()
torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.50 GiB. GPU 0 has a total capacity of 79.15 GiB of which 1.02 GiB is free.
"""
with open(path, "wb") as f:
    written = 0
    while written < (4 << 30):
        f.write(block)
        written += len(block)
    f.write(tail)
PY
fi

if [ "$(ls "$array" | wc -l)" -lt 1000 ]; then
  echo "writing 1,000 task logs to $array..." >&2
  python3 - "$array" <<'PY'
import sys
d = sys.argv[1]
for i in range(1000):
    body = "".join(f"trait {i} chunk {k}/20 loss={0.5 - k * 0.01:.3f}\n" for k in range(20))
    if i % 20 == 0:
        name = f"task-{i:04d}-fail.log"
        body += "slurmstepd: error: Detected 1 oom-kill event(s) in StepId=77_%d.batch.\n" % i
    elif i % 50 == 1:
        name = f"task-{i:04d}-fail.log"
        body += "Traceback (most recent call last):\n  File \"gwas.py\", line 3, in <module>\nKeyError: 'phenotype'\n"
    else:
        name = f"task-{i:04d}.log"
        body += "wandb: Network error (TransientError), entering retry loop.\nDone. Training completed.\n"
    open(f"{d}/{name}", "w").write(body)
PY
fi

cd "$root"
EXPT_BENCH=1 EXPT_BENCH_LOG="$log" EXPT_BENCH_ARRAY="$array" \
  swift test -c release --scratch-path .build-bench --filter 'ExptDiagnosisTests.BenchmarkTests' 2>&1 \
  | grep -E '^bench:|error|passed|failed' 
