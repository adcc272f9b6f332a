#!/usr/bin/env bash
# Wall time of one epoch for a worker that waits for late global parameters against one
# that trains on a candidate model (ps.late_params: candidate), with the parameter server
# answering every Pull 0, 20 and 100 ms late (`colony launch --inject-delay-ms`, a
# test/benchmark-only server option), in one run. Two waiting workers: `wait`
# (ps.late_params: wait, which sends a step's Pulls one table after the other) and `waitpar`
# (the candidate machinery told to wait 10 minutes: all tables pulled at once, then waits;
# bit for bit a waiting worker when alone), so that the last ratio is the candidate model's
# own gain.
#   bench/train/run_late_params_bench.sh [ROWS] [WORKERS] [DELAYS]     (after scripts/build.sh)
# Reports each run's training time (the slowest worker's loop, from the summaries), test
# AUC, steps on a candidate model, and the waiting times over the candidate time.
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
  for mode in wait waitpar candidate; do
    echo "delay ${delay} ms, ${mode} ..." >&2
    late=(--set ps.late_params=candidate)
    [ "$mode" = wait ] && late=(--set ps.late_params=wait)
    [ "$mode" = waitpar ] && late+=(--set ps.candidate_wait_ms=600000)
    "$BUILD_DIR/colony" launch --servers 1 --workers "$WORKERS" --inject-delay-ms "$delay" \
      examples/ctr/config.yaml --set "data.dir=$DATA" --set strategy=async "${late[@]}" \
      --set train.epochs=1 --set train.log_every_seconds=1000 \
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
print(f"{'delay':>6} {'wait s':>8} {'auc':>7} {'waitpar s':>10} {'auc':>7} {'cand s':>8} "
      f"{'auc':>7} {'cand steps':>11} {'wait/cand':>10} {'waitpar/cand':>13}")
for d in delays.split():
    ws, wa, _, _ = run("wait", d)
    ps_, pa, _, _ = run("waitpar", d)
    cs, ca, cst, steps = run("candidate", d)
    print(f"{d + ' ms':>6} {ws:>8.2f} {wa:>7.4f} {ps_:>10.2f} {pa:>7.4f} {cs:>8.2f} {ca:>7.4f} "
          f"{f'{cst}/{steps}':>11} {ws / cs:>9.2f}x {ps_ / cs:>12.2f}x")
PY
