#!/usr/bin/env bash
# The oldest supported stack: Python 3.9 with numpy 1.24 (Debian bookworm / Raspberry Pi OS).
# Builds edgeai from this checkout into its own venv and runs the kernel tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# a pyenv shim named python3.9 may exist and still refuse to run: keep the first candidate that runs
PY39_FOUND=
for c in ${PY39:-} /root/.pyenv/versions/3.9*/bin/python3.9 "$(command -v python3.9 || true)"; do
    if [ -n "$c" ] && [ -x "$c" ] && "$c" -c 'import sys; assert sys.version_info[:2] == (3, 9)' 2>/dev/null; then
        PY39_FOUND=$c
        break
    fi
done
if [ -z "$PY39_FOUND" ]; then
    echo "test-min-versions: no runnable Python 3.9 interpreter found (set PY39)" >&2
    exit 1
fi
PY39=$PY39_FOUND
VENV=$(pwd)/${EDGEAI_VENV39:-.venv39}
[ -x "$VENV/bin/python" ] || "$PY39" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q "numpy==1.24.4" pytest gguf
"$VENV/bin/python" -m pip install -q .
# run from outside the checkout so the installed package (not ./edgeai) is imported
cd /tmp && "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$OLDPWD/tests/kernels"
