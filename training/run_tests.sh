#!/usr/bin/env bash
# Python tests of the training package (tiny config, synthetic data, CPU). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider training/tests "$@"
