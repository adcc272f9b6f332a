#!/usr/bin/env bash
# Dense parameters batched (one PullMany/PushMany per server and step) against the path
# before batching, on three `colony launch` jobs, each beside `colony train` on the same data:
#   multitask  MMoE (examples/multitask/mmoe.yaml), 1 server x 2 async workers (and 2 x 2)
#   session    SR-GNN (examples/session/srgnn.yaml), 2 servers x 2 async workers
#   ctr        DNN (examples/ctr/config.yaml), 2 servers x 2 async workers
# Reports the median over RUNS runs of training samples/s (launch: the workers' rates added
# up) and its ratio to the local run. "before" is the colony of BASE_BUILD_DIR when set (a
# build of the commit before batching: dense tables one call each, all on the first
# server); "per-table" is this build with ps.batch_dense=false (one call per table, tables
# spread over the servers by name).
#   bench/train/run_dense_batch_bench.sh [RUNS] [MT_ROWS] [MT_EPOCHS] [SESSIONS] [CTR_ROWS]
#   BASE_BUILD_DIR=../base/build bench/train/run_dense_batch_bench.sh   (after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
BASE_BUILD_DIR=${BASE_BUILD_DIR:-}
RUNS=${1:-3}
MT_ROWS=${2:-50000}
MT_EPOCHS=${3:-3}
SESSIONS=${4:-20000}
CTR_ROWS=${5:-300000}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
NEW="$BUILD_DIR/colony"
BASE=""
[ -n "$BASE_BUILD_DIR" ] && BASE="$BASE_BUILD_DIR/colony"

"$NEW" gen multitask --out "$OUT/mt" --rows "$MT_ROWS" --correlation 0.5 >/dev/null
"$NEW" gen sessions --sessions "$SESSIONS" --out "$OUT/sessions" >/dev/null
"$NEW" gen ctr --rows "$CTR_ROWS" --out "$OUT/ctr" --seed 7 >/dev/null

# run NAME RUN_INDEX BINARY train|launch SERVERS WORKERS CONFIG [--set ...]
run() {
  local name=$1 i=$2 bin=$3 mode=$4 servers=$5 workers=$6 config=$7
  shift 7
  echo "$name run $i ..." >&2
  if [ "$mode" = train ]; then
    "$bin" train "$config" "$@" --summary-json "$OUT/$name-$i.json" >/dev/null 2>&1
  else
    "$bin" launch --servers "$servers" --workers "$workers" "$config" --set strategy=async "$@" \
      --run-dir "$OUT/run-$name-$i" --summary-json "$OUT/$name-$i.json" >/dev/null 2>&1
    rm -rf "$OUT/run-$name-$i"
  fi
}

# job PREFIX SERVERS WORKERS CONFIG [--set ...]: local, before, per-table and batched runs,
# interleaved so that load from other work on the machine falls on all of them alike.
job() {
  local prefix=$1 servers=$2 workers=$3 config=$4
  shift 4
  for i in $(seq "$RUNS"); do
    run "$prefix-local" "$i" "$NEW" train 0 0 "$config" "$@"
    [ -n "$BASE" ] && run "$prefix-before" "$i" "$BASE" launch "$servers" "$workers" "$config" "$@"
    run "$prefix-per_table" "$i" "$NEW" launch "$servers" "$workers" "$config" "$@" \
      --set ps.batch_dense=false
    run "$prefix-batched" "$i" "$NEW" launch "$servers" "$workers" "$config" "$@"
  done
}

LOG=(--set train.log_every_seconds=1000)
job multitask 1 2 examples/multitask/mmoe.yaml --set "data.dir=$OUT/mt" \
  --set "train.epochs=$MT_EPOCHS" "${LOG[@]}"
for i in $(seq "$RUNS"); do
  run multitask-batched_2x2 "$i" "$NEW" launch 2 2 examples/multitask/mmoe.yaml \
    --set "data.dir=$OUT/mt" --set "train.epochs=$MT_EPOCHS" "${LOG[@]}"
done
job session 2 2 examples/session/srgnn.yaml --set "data.dir=$OUT/sessions" --set train.epochs=1 \
  "${LOG[@]}"
job ctr 2 2 examples/ctr/config.yaml --set "data.dir=$OUT/ctr" --set train.epochs=1 "${LOG[@]}"

/usr/bin/python3 - "$OUT" "$RUNS" "$MT_ROWS" "$MT_EPOCHS" "$SESSIONS" "$CTR_ROWS" <<'PY'
import json, os, statistics, sys
out, runs, mt_rows, mt_epochs, sessions, ctr_rows = sys.argv[1:]
def rates(name):
    files = [f"{out}/{name}-{i}.json" for i in range(1, int(runs) + 1)]
    return [json.load(open(f))["samples_per_sec"] for f in files if os.path.exists(f)]
print(f"median of {runs} runs; multitask {mt_rows} rows x {mt_epochs} epochs, session "
      f"{sessions} sessions x 1 epoch, ctr {ctr_rows} rows x 1 epoch")
print(f"{'job':<10}{'run':<22}{'samples/s':>11}{'x local':>9}{'x before':>10}   runs")
for job, launch in (("multitask", "1x2"), ("session", "2x2"), ("ctr", "2x2")):
    local = statistics.median(rates(f"{job}-local"))
    before = rates(f"{job}-before")
    base = statistics.median(before) if before else None
    names = [("local", "train (local)"), ("before", f"launch {launch} before"),
             ("per_table", f"launch {launch} per-table"), ("batched", f"launch {launch} batched")]
    if job == "multitask":
        names.append(("batched_2x2", "launch 2x2 batched"))
    for key, label in names:
        r = rates(f"{job}-{key}")
        if not r:
            continue
        m = statistics.median(r)
        vs_base = f"{m / base:>9.2f}x" if base else f"{'-':>10}"
        print(f"{job:<10}{label:<22}{m:>11.0f}{m / local:>8.2f}x{vs_base}   "
              + " ".join(f"{x:.0f}" for x in r))
PY
