# Sourced by scripts/run and scripts/test: make .venv with Python 3.11 and install requirements.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=""
for candidate in python3.11 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        PY="$candidate"; break
    fi
done
if [ -z "$PY" ]; then
    echo "error: Python 3.11 is required (Django 5.2 LTS, mediapipe wheels); install python3.11 and retry" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $($PY --version)"
    "$PY" -m venv .venv
fi
requirements_file="${1:-requirements.txt}"
stamp=".venv/.installed-$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)-$(basename "$requirements_file")"
if [ ! -f "$stamp" ]; then
    echo "Installing $requirements_file into .venv (first run takes a minute)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements_file"
    touch "$stamp"
fi
