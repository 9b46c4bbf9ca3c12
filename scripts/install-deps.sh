#!/usr/bin/env bash
# Installs the Debian packages expt needs to build, run its demo and run its tests.
# Idempotent: installs only what is missing. Needs root (or sudo).
set -euo pipefail

pkgs=(git pkg-config libgit2-dev libssl-dev libsqlite3-dev python3 python3-yaml gh)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# The pinned wandb from PyPI, in its own virtualenv (never the system's Python): the W&B tests
# produce real offline run directories with it. EXPT_WANDB_PYTHON names its python.
wandb_version=0.31.0
wandb_venv=${EXPT_WANDB_VENV:-$HOME/.cache/expt/wandb-$wandb_version}
install_wandb() {
    [[ -x $wandb_venv/bin/python ]] && "$wandb_venv/bin/python" -c "import wandb" 2>/dev/null && return 0
    echo "install-deps: installing wandb==$wandb_version into $wandb_venv" >&2
    rm -rf "$wandb_venv"
    python3 -m venv "$wandb_venv" && "$wandb_venv/bin/pip" install -q --disable-pip-version-check "wandb==$wandb_version" \
        || { echo "install-deps: could not install wandb $wandb_version; the W&B tests that need it fail" >&2; rm -rf "$wandb_venv"; }
}

if ((${#missing[@]} == 0)); then install_wandb; exit 0; fi

sudo=()
if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_wandb
