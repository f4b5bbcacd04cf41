#!/usr/bin/env bash
# Set up a virtual environment with edgeai built from this checkout, then run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${EDGEAI_VENV:-.venv}
PY=${PYTHON:-python3}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[test]"
"$VENV/bin/python" -m pytest -q tests "$@"
# the whole suite once more on the portable reference kernels only
EDGEAI_ISA=ref "$VENV/bin/python" -m pytest -q tests/kernels "$@"
