#!/usr/bin/env bash
# Training samples/s of `colony train examples/session/srgnn.yaml` against the same SR-GNN
# (position embeddings, dim 100, 1 step, batch 100, Adam lr 0.003) as a PyTorch script
# (bench/pytorch/srgnn.py), on the same generated sessions, 1 epoch each, three interleaved
# rounds; medians reported.
#   bench/session/run_srgnn_bench.sh [SESSIONS] [THREADS]      (after scripts/build.sh)
# Both figures include building each batch's session graphs (colony: its C++ feeder;
# PyTorch: numpy, as the public SR-GNN implementation does).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
SESSIONS=${1:-20000}
THREADS=${2:-1}
DATA=data/bench-sessions-$SESSIONS
OUT=$(mktemp -d)
[ -f "$DATA/truth.json" ] || "$BUILD_DIR/colony" gen sessions --sessions "$SESSIONS" --out "$DATA" >/dev/null
for round in 1 2 3; do
  "$BUILD_DIR/colony" train examples/session/srgnn.yaml --set "data.dir=$DATA" \
    --set "train.threads=$THREADS" --set train.epochs=1 --set train.log_every_seconds=1000 \
    --summary-json "$OUT/colony$round.json" >/dev/null 2>&1
  /usr/bin/python3 bench/pytorch/srgnn.py --data "$DATA" --epochs 1 --threads "$THREADS" \
    --summary-json "$OUT/pytorch$round.json" >/dev/null
done
/usr/bin/python3 - "$OUT" "$DATA" "$THREADS" <<'PY'
import json, sys
out, data, threads = sys.argv[1:]
def median(name):
    runs = sorted((json.load(open(f"{out}/{name}{r}.json")) for r in (1, 2, 3)),
                  key=lambda run: run["samples_per_sec"])
    return runs, runs[1]
truth = json.load(open(f"{data}/truth.json"))
print(f"data {data}, {threads} thread(s), oracle P@20 {truth['oracle_p20']:.4f}")
print(f"{'run':<10}{'samples/s (min/median/max)':>32}{'P@20':>8}{'MRR@20':>8}")
rates = {}
for name in ("colony", "pytorch"):
    runs, m = median(name)
    rates[name] = m["samples_per_sec"]
    spread = "/".join(f"{r['samples_per_sec']:.0f}" for r in runs)
    print(f"{name:<10}{spread:>32}{m['p20']:>8.4f}{m['mrr20']:>8.4f}")
print(f"colony / pytorch = {rates['colony'] / rates['pytorch']:.2f}x (medians)")
PY
rm -rf "$OUT"
