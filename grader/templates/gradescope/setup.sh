#!/usr/bin/env bash
# Written by `grade gradescope`: installs what the grader needs on Gradescope's image.
set -euo pipefail
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-pip bubblewrap
pip3 install -q torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
pip3 install -q -r /autograder/source/requirements.txt
