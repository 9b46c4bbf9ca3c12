#!/usr/bin/env bash
# The README's first command: on a fresh Debian machine, installs what expt needs, builds it,
# and runs the whole lifecycle in a throwaway repository on the local backend:
#   init → new → launch → the job runs out of memory → diagnose (oom_host) →
#   fix-and-relaunch (highmem profile, resumed from the checkpoint) → success → merge → history.
# The PR comment waits in the outbox: the demo's origin looks like GitHub but gh cannot reach it.
#   DEMO_DIR=/path      keep the demo repository there (default: a new temp dir, kept for a look)
#   EXPT_DEMO_BIN=/path use this expt binary instead of building one
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/install-deps.sh
if [[ -n ${EXPT_DEMO_BIN:-} ]]; then
    expt_bin=$EXPT_DEMO_BIN        # an already built expt (used by the test suite)
else
    echo "== building expt (release)" >&2
    swift build -c release --product expt >&2
    expt_bin="$root/.build/release/expt"
fi
bindir=$(mktemp -d)
ln -s "$expt_bin" "$bindir/expt"
export PATH="$bindir:$PATH"    # the git hooks installed by `expt init` call expt

demo=${DEMO_DIR:-$(mktemp -d /tmp/expt-demo.XXXXXX)}
mkdir -p "$demo"
cd "$demo"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@"; }

git init -q -b main repo && cd repo
git config user.name "Demo Researcher"; git config user.email "demo@example.com"
git init -q --bare ../origin.git
# origin names a GitHub repository (so expt comments on its PR through gh) but pushes go to a
# local bare repository, so the demo needs no network.
git remote add origin https://github.com/expt-demo/bigger-model.git
git config remote.origin.pushurl "$demo/origin.git"

cat > train.py <<'PY'
"""A tiny training job: 30 steps, a checkpoint every 5 steps, and activations that grow by
8 MiB a step, more than the default 150M memory limit holds."""
import json, os, sys, time
steps, start = 30, 0
if len(sys.argv) > 2 and sys.argv[1] == "--resume":
    start = json.load(open(sys.argv[2]))["step"]
    print(f"resuming from {sys.argv[2]} at step {start}", flush=True)
os.makedirs("checkpoints", exist_ok=True)
held = []
for step in range(start + 1, steps + 1):
    held.append(b"\x01" * (8 << 20))
    print(f"epoch 1 step {step}/{steps} loss {2.0 / step:.4f}", flush=True)
    if step % 5 == 0:
        with open(f"checkpoints/step-{step:04d}.json", "w") as f:
            json.dump({"step": step}, f)
    time.sleep(0.1)
print("training complete", flush=True)
PY
printf 'checkpoints/\n' > .gitignore
git add -A && git commit -qm "Training script"

run expt init
sed -i -e 's/^checkpoint_glob = .*/checkpoint_glob = "checkpoints\/*.json"/' \
       -e 's/^mem = "4G" .*/mem = "150M"/' -e 's/^mem = "16G"/mem = "1G"/' \
       -e 's/^time = "01:00:00".*/time = "00:05:00"/' expt.toml
git commit -qam "Demo resources: 150M by default, 1G in the highmem profile" --no-verify
run expt new exp/bigger-model
run expt launch exp/bigger-model
step expt watch exp/bigger-model --interval 2
expt watch exp/bigger-model --interval 2 || echo "(watch exits $? when a run failed)"
run expt diagnose exp/bigger-model
run expt fix-and-relaunch exp/bigger-model --yes -m "Give the bigger model more memory"
run expt watch exp/bigger-model --interval 2
run expt logs exp/bigger-model --tail 3
run expt runs exp/bigger-model
run expt merge exp/bigger-model
run git log --graph --oneline --decorate -8
run expt history
run expt outbox
printf '\nThe demo repository is in %s/repo\n' "$demo"
