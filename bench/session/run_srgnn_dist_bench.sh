#!/usr/bin/env bash
# SR-GNN trained locally (embedded tables, one process) against `colony launch` with 2
# parameter servers x 2 workers (strategies async and sync), on the same generated sessions
# and settings (examples/session/srgnn.yaml, EPOCHS epochs): test P@20 / MRR@20 and training
# samples/s (launch: the workers' rates added up), with ratios against the local run.
#   bench/session/run_srgnn_dist_bench.sh [SESSIONS] [EPOCHS]     (after scripts/build.sh)
# On servers the item embedding rows are spread over both servers and every step pulls and
# pushes all of them (the scores need every item), so each step moves about
# 2 x (items x dim + the dense parameters) floats through gRPC on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
SESSIONS=${1:-20000}
EPOCHS=${2:-2}
DATA=data/bench-sessions-$SESSIONS
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
[ -f "$DATA/truth.json" ] || "$BUILD_DIR/colony" gen sessions --sessions "$SESSIONS" --out "$DATA" >/dev/null
JOB=(examples/session/srgnn.yaml --set "data.dir=$DATA" --set "train.epochs=$EPOCHS"
     --set train.log_every_seconds=1000)
echo "local: colony train ${JOB[*]}" >&2
"$BUILD_DIR/colony" train "${JOB[@]}" --summary-json "$OUT/local.json" >/dev/null 2>&1
for strategy in async sync; do
  echo "launch 2x2 $strategy" >&2
  "$BUILD_DIR/colony" launch --servers 2 --workers 2 "${JOB[@]}" --set "strategy=$strategy" \
    --run-dir "$OUT/run-$strategy" --summary-json "$OUT/$strategy.json" >/dev/null 2>&1
done
/usr/bin/python3 - "$OUT" "$DATA" "$EPOCHS" <<'PY'
import json, sys
out, data, epochs = sys.argv[1:]
truth = json.load(open(f"{data}/truth.json"))
print(f"data {data}, {epochs} epochs, oracle P@20 {truth['oracle_p20']:.4f} MRR@20 {truth['oracle_mrr20']:.4f}")
runs = {name: json.load(open(f"{out}/{file}.json"))
        for name, file in (("local", "local"), ("launch 2x2 async", "async"),
                           ("launch 2x2 sync", "sync"))}
base = runs["local"]
print(f"{'run':<18}{'samples':>9}{'samples/s':>11}{'x local':>9}{'P@20':>8}{'x local':>9}{'MRR@20':>8}")
for name, r in runs.items():
    print(f"{name:<18}{r['samples']:>9.0f}{r['samples_per_sec']:>11.0f}"
          f"{r['samples_per_sec'] / base['samples_per_sec']:>9.2f}{r['p20']:>8.4f}"
          f"{r['p20'] / base['p20']:>9.3f}{r['mrr20']:>8.4f}")
PY
