#!/usr/bin/env bash
# Builds expt in release mode and installs it with its man page and shell completions.
#   PREFIX (default /usr/local): bin/expt, share/man/man1/expt.1,
#   share/bash-completion/completions/expt, share/zsh/site-functions/_expt,
#   share/fish/vendor_completions.d/expt.fish
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
scripts/install-deps.sh
# The Swift runtime and Foundation linked in: a third off every command's start-up (docs/benchmarks.md).
swift build -c release --product expt --static-swift-stdlib
bin=.build/release/expt
install -d "$PREFIX/bin" "$PREFIX/share/man/man1" "$PREFIX/share/bash-completion/completions" \
    "$PREFIX/share/zsh/site-functions" "$PREFIX/share/fish/vendor_completions.d"
install -m 755 "$bin" "$PREFIX/bin/expt"
"$bin" --generate-completion-script bash >"$PREFIX/share/bash-completion/completions/expt"
"$bin" --generate-completion-script zsh >"$PREFIX/share/zsh/site-functions/_expt"
"$bin" --generate-completion-script fish >"$PREFIX/share/fish/vendor_completions.d/expt.fish"
man=$(mktemp -d)
swift package --allow-writing-to-directory "$man" generate-manual --output-directory "$man" >/dev/null
install -m 644 "$(find "$man" .build/plugins/GenerateManual/outputs -name expt.1 2>/dev/null | head -1)" "$PREFIX/share/man/man1/expt.1"
rm -rf "$man"
echo "installed expt to $PREFIX/bin (man expt; completions for bash, zsh, fish)"
