#!/usr/bin/env bash
# The oldest supported stack: Python 3.9 with numpy 1.24 (Debian bookworm / Raspberry Pi OS).
# Builds edgeai from this checkout into its own venv and runs the kernel tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY39=${PY39:-$(command -v python3.9 || echo /root/.pyenv/versions/3.9.18/bin/python)}
if [ ! -x "$PY39" ]; then
    echo "test-min-versions: no Python 3.9 interpreter found (set PY39)" >&2
    exit 1
fi
VENV=${EDGEAI_VENV39:-.venv39}
[ -x "$VENV/bin/python" ] || "$PY39" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q "numpy==1.24.4" pytest gguf
"$VENV/bin/python" -m pip install -q .
# run from outside the checkout so the installed package (not ./edgeai) is imported
cd /tmp && "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$OLDPWD/tests/kernels"
