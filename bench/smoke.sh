#!/usr/bin/env bash
# A few seconds of load that proves the benchmark harness works: 50 sessions, 200 events/s for
# 5 s. Exits non-zero when anything is lost, duplicated, out of order or fails to connect.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec bash bench/run.sh smoke --db=vault_bench_smoke "$@"
