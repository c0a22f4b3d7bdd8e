#!/usr/bin/env bash
# Written by `grade gradescope`: installs what the grader needs on Gradescope's image, the
# Python packages in a virtual environment (current images refuse a system-wide pip).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv bubblewrap
python3 -m venv "$ROOT/venv"
PIP="$ROOT/venv/bin/pip"
"$PIP" install -q --upgrade pip
"$PIP" install -q torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
"$PIP" install -q -r "$ROOT/source/requirements.txt"
