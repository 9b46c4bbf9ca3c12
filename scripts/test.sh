#!/usr/bin/env bash
# The test command of the README: installs what the tests need (Debian packages, and a local
# one-node Slurm when scripts/slurm-local.sh can start one), builds, and runs every test.
#   EXPT_REQUIRE_SLURM=1  fail (instead of skip) the Slurm tests when no Slurm is reachable
#   EXPT_SKIP_SLURM=1     do not try to start Slurm
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export EXPT_WANDB_PYTHON=${EXPT_WANDB_PYTHON:-${EXPT_WANDB_VENV:-$HOME/.cache/expt/wandb-0.31.0}/bin/python}
if [[ ${EXPT_SKIP_SLURM:-0} != 1 && -x scripts/slurm-local.sh ]]; then
    if [[ $(id -u) == 0 ]]; then
        scripts/slurm-local.sh start || echo "test: could not start a local Slurm; Slurm tests will skip (or fail with EXPT_REQUIRE_SLURM=1)" >&2
    else
        echo "test: not root, so no local Slurm is started; Slurm tests will skip" >&2
    fi
fi
# The build must stay warning-free (Swift 6 language mode): a warning in the project's own
# sources or tests fails the run. Only a fresh build prints every warning, as CI's does.
log=$(mktemp)
swift build --build-tests 2>&1 | tee "$log"
if grep -E "^$(pwd)/(Sources|Tests|templates)/.*: warning:" "$log" | sort -u | grep . >&2; then
    echo "test: the build has warnings (above); fix them" >&2
    rm -f "$log"; exit 1
fi
rm -f "$log"
if [[ $# -gt 0 ]]; then exec swift test --skip-build "$@"; fi

# The Slurm scenarios mostly wait on Slurm (its smallest time limit is a minute, enforced up to
# 30 s late), so they run in a second test process beside the rest of the suite: the suite takes
# as long as the longer of the two instead of their sum. The bundle is run directly because a
# second `swift test` would wait on SwiftPM's lock of .build.
bundle=$(swift build --show-bin-path)/exptPackageTests.xctest
start=$SECONDS
slurm_log=$(mktemp); rest_log=$(mktemp)
"$bundle" EndToEndTests.SlurmEndToEndTests >"$slurm_log" 2>&1 &
slurm_pid=$!
rest=0; EXPT_HELDOUT=1 swift test --skip-build --skip EndToEndTests.SlurmEndToEndTests 2>&1 | tee "$rest_log" || rest=$?
slurm=0; wait "$slurm_pid" || slurm=$?
cat "$slurm_log"
echo "test: the suite took $((SECONDS - start)) s"
# One closing line for both processes: "tests: N passed, N failed, N skipped".
python3 - "$rest_log" "$slurm_log" <<'PY'
import re, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    text = open(path, errors="replace").read()
    passed += len(re.findall(r"^Test Case '.*' passed", text, re.M))
    failed += len(re.findall(r"^Test Case '.*' failed", text, re.M))
    skipped += len(re.findall(r"^Test Case '.*' skipped", text, re.M))
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
rm -f "$slurm_log" "$rest_log"
[[ $rest == 0 && $slurm == 0 ]]
