#!/usr/bin/env bash
# What the sparse-table row policies cost in `colony train` (DNN, 1 epoch): samples/s and
# rows with all rows in memory, with an SSD tier holding all but MEMORY_ROWS rows in RocksDB,
# and with admission at the second sighting, in one run.
#   bench/ps/run_row_policy_bench.sh [ROWS] [MEMORY_ROWS]      (after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
ROWS=${1:-200000}
MEMORY_ROWS=${2:-2000}
DATA=data/bench-ctr-$ROWS
OUT=$(mktemp -d)
[ -f "$DATA/truth.json" ] || "$BUILD_DIR/colony" gen ctr --rows "$ROWS" --out "$DATA" --seed 7
run() {  # name, extra flags...
  local name=$1
  shift
  "$BUILD_DIR/colony" train examples/ctr/config.yaml --set "data.dir=$DATA" --set train.epochs=1 \
    --set train.log_every_seconds=1000 --summary-json "$OUT/$name.json" "$@" >/dev/null 2>&1
}
# Three interleaved rounds; medians (a shared 2-core machine varies by 20 % run to run).
for round in 1 2 3; do
  run "memory$round"
  rm -rf "$OUT/ssd"
  run "ssd$round" --set "ps.memory_rows=$MEMORY_ROWS" --set "ps.ssd_dir=$OUT/ssd"
  run "admit$round" --set ps.admit_count=2
done
/usr/bin/python3 - "$OUT" "$MEMORY_ROWS" <<'PY'
import json, sys
out, memory_rows = sys.argv[1:]
def median(name):
    runs = sorted((json.load(open(f"{out}/{name}{r}.json")) for r in (1, 2, 3)),
                  key=lambda run: run["samples_per_sec"])
    return runs[1]
base = median("memory")
print(f"{'run':<34}{'samples/s':>11}{'ratio':>7}{'rows':>8}{'on SSD':>8}{'test auc':>10}")
for name, label in [("memory", "all rows in memory"),
                    ("ssd", f"SSD tier, {memory_rows} rows in memory"),
                    ("admit", "admission at the 2nd sighting")]:
    r = median(name)
    print(f"{label:<34}{r['samples_per_sec']:>11.0f}{r['samples_per_sec'] / base['samples_per_sec']:>7.2f}"
          f"{r['sparse_rows']:>8}{r['ssd_rows']:>8}{r['test_auc']:>10.4f}")
PY
rm -rf "$OUT"
