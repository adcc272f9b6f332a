#!/usr/bin/env bash
# Wall time to a target training loss for a worker that waits for late global parameters
# against one that trains on a candidate model (ps.late_params: candidate), with the parameter
# server answering every Pull 0, 20 and 100 ms late (`colony launch --inject-delay-ms`, a
# test/benchmark-only server option), in one run. Every worker stops once the mean loss of
# its last 20 steps is at most TARGET (train.target_loss; at most 6 epochs). Two waiting
# workers: `wait` (ps.late_params: wait, which sends a step's Pulls one table after the other)
# and `waitpar` (the candidate machinery told to wait 10 minutes: all tables pulled at once,
# then waits; bit for bit a waiting worker when alone), so that the last ratio is the
# candidate model's own gain.
#   bench/train/run_late_params_bench.sh [ROWS] [WORKERS] [DELAYS] [TARGET]   (after scripts/build.sh)
# Reports each run's time to the target (the slowest worker's loop, from the summaries), test
# AUC and logloss of the servers' model, steps on a candidate model, and the waiting times over
# the candidate time.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
ROWS=${1:-50000}
WORKERS=${2:-2}
DELAYS=${3:-0 20 100}
TARGET=${4:-0.42}
DATA=data/bench-ctr-$ROWS
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
[ -f "$DATA/truth.json" ] || "$BUILD_DIR/colony" gen ctr --rows "$ROWS" --out "$DATA" --seed 7
for delay in $DELAYS; do
  for mode in wait waitpar candidate; do
    echo "delay ${delay} ms, ${mode} ..." >&2
    late=(--set ps.late_params=candidate)
    [ "$mode" = wait ] && late=(--set ps.late_params=wait)
    [ "$mode" = waitpar ] && late+=(--set ps.candidate_wait_ms=600000)
    "$BUILD_DIR/colony" launch --servers 1 --workers "$WORKERS" --inject-delay-ms "$delay" \
      examples/ctr/config.yaml --set "data.dir=$DATA" --set strategy=async "${late[@]}" \
      --set train.epochs=6 --set train.target_loss="$TARGET" --set train.log_every_seconds=1000 \
      --summary-json "$OUT/$mode-$delay.json" --run-dir "$OUT/run-$mode-$delay" >/dev/null 2>&1
  done
done
/usr/bin/python3 - "$OUT" "$DATA" "$WORKERS" "$DELAYS" "$TARGET" <<'PY'
import json, sys
out, data, workers, delays, target = sys.argv[1:]
def run(mode, delay):
    s = json.load(open(f"{out}/{mode}-{delay}.json"))
    w = s["worker_summaries"]
    seconds = max(x["seconds"] for x in w)
    if not all(x["reached_target_loss"] for x in w):
        seconds = float("nan")  # Not reached within the epochs: no time to the target.
    return (seconds, s["test_auc"], s["test_logloss"], sum(x["candidate_steps"] for x in w),
            sum(x["steps"] for x in w))
print(f"data {data}, 1 server, {workers} async worker(s), examples/ctr/config.yaml, "
      f"time to a training loss of {target} (mean of a worker's last 20 steps)")
print(f"{'delay':>6} | {'mode':>9} {'seconds':>8} {'steps':>6} {'cand':>5} {'auc':>7} "
      f"{'logloss':>8} | {'mode s / candidate s':>21}")
for d in delays.split():
    cand = run("candidate", d)
    for mode in ("wait", "waitpar", "candidate"):
        sec, auc, ll, cst, steps = run(mode, d)
        print(f"{d + ' ms':>6} | {mode:>9} {sec:>8.2f} {steps:>6} {cst:>5} {auc:>7.4f} {ll:>8.4f} "
              f"| {sec / cand[0]:>20.2f}x")
PY
