#!/usr/bin/env bash
# The test command of the README: installs what the tests need (Debian packages, and a local
# one-node Slurm when scripts/slurm-local.sh can start one), builds, and runs every test.
#   EXPT_REQUIRE_SLURM=1  fail (instead of skip) the Slurm tests when no Slurm is reachable
#   EXPT_SKIP_SLURM=1     do not try to start Slurm
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
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
swift test --skip-build "$@"
