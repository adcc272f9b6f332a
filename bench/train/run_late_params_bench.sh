#!/usr/bin/env bash
# Wall time of one epoch for a worker that waits for late global parameters
# (ps.late_params: wait) against one that trains on a candidate model (ps.late_params:
# candidate), with the parameter server answering every Pull 0, 20 and 100 ms late
# (`colony launch --inject-delay-ms`, a test/benchmark-only server option), in one run.
#   bench/train/run_late_params_bench.sh [ROWS] [WORKERS] [DELAYS]     (after scripts/build.sh)
# Reports each run's training time (the workers' loop, from their summaries), test AUC,
# steps on a candidate model, and wait time / candidate time per delay.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
ROWS=${1:-50000}
WORKERS=${2:-1}
DELAYS=${3:-0 20 100}
DATA=data/bench-ctr-$ROWS
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
[ -f "$DATA/truth.json" ] || "$BUILD_DIR/colony" gen ctr --rows "$ROWS" --out "$DATA" --seed 7
for delay in $DELAYS; do
  for mode in wait candidate; do
    echo "delay ${delay} ms, late_params ${mode} ..." >&2
    "$BUILD_DIR/colony" launch --servers 1 --workers "$WORKERS" --inject-delay-ms "$delay" \
      examples/ctr/config.yaml --set "data.dir=$DATA" --set strategy=async \
      --set "ps.late_params=$mode" --set train.epochs=1 --set train.log_every_seconds=1000 \
      --summary-json "$OUT/$mode-$delay.json" --run-dir "$OUT/run-$mode-$delay" >/dev/null 2>&1
  done
done
/usr/bin/python3 - "$OUT" "$DATA" "$WORKERS" "$DELAYS" <<'PY'
import json, sys
out, data, workers, delays = sys.argv[1:]
def run(mode, delay):
    s = json.load(open(f"{out}/{mode}-{delay}.json"))
    w = s["worker_summaries"]
    return (max(x["seconds"] for x in w), s["test_auc"], sum(x["candidate_steps"] for x in w),
            sum(x["steps"] for x in w))
print(f"data {data}, 1 server, {workers} async worker(s), 1 epoch, examples/ctr/config.yaml")
print(f"{'delay':>6} {'wait s':>8} {'wait auc':>9} {'cand s':>8} {'cand auc':>9} "
      f"{'cand steps':>11} {'wait/cand':>10}")
for d in delays.split():
    ws, wa, _, _ = run("wait", d)
    cs, ca, cst, steps = run("candidate", d)
    print(f"{d + ' ms':>6} {ws:>8.2f} {wa:>9.4f} {cs:>8.2f} {ca:>9.4f} {f'{cst}/{steps}':>11} "
          f"{ws / cs:>9.2f}x")
PY
