#!/usr/bin/env bash
# Regenerates the ready-made completion scripts from the installed `ofevents` (run after
# changing the CLI; tests/cli/test_completions.py fails while they are out of date).
set -euo pipefail
cd "$(dirname "$0")"
for shell in bash zsh fish; do
    _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION=1 ofevents --show-completion "$shell" > "ofevents.$shell"
done
