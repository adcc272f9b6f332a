#!/usr/bin/env bash
# samples/s of `colony train` (DNN, batch 512, 1 epoch) against the same model as a plain
# LibTorch C++ loop and as a PyTorch script, on the same generated data, in one run.
#   bench/train/run_train_bench.sh [ROWS] [THREADS]      (after scripts/build.sh)
# The LibTorch and PyTorch baselines tensorize the data before their clock starts; colony's
# figure includes reading and parsing (on its prefetch thread).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
ROWS=${1:-200000}
THREADS=${2:-1}
DATA=data/bench-ctr-$ROWS
OUT=$(mktemp -d)
[ -f "$DATA/truth.json" ] || "$BUILD_DIR/colony" gen ctr --rows "$ROWS" --out "$DATA" --seed 7
# Three interleaved rounds of colony and the LibTorch loop; the median of each is reported
# (single runs on a shared 2-core machine vary by 20 %).
for round in 1 2 3; do
  "$BUILD_DIR/colony" train examples/ctr/config.yaml --set "data.dir=$DATA" \
    --set "train.threads=$THREADS" --set train.epochs=1 --set train.log_every_seconds=1000 \
    --summary-json "$OUT/colony$round.json" >/dev/null 2>&1
  "$BUILD_DIR/bench/train/colony_libtorch_ctr_bench" --data "$DATA" --threads "$THREADS" \
    --summary-json "$OUT/libtorch$round.json" >/dev/null
done
/usr/bin/python3 bench/pytorch/ctr_dnn.py --data "$DATA" --epochs 1 --models dnn --lr 0.001 --sparse-adagrad 0.05 \
  --threads "$THREADS" --summary-json "$OUT/pytorch.json" >/dev/null
/usr/bin/python3 - "$OUT" "$DATA" "$THREADS" <<'PY'
import json, sys
out, data, threads = sys.argv[1:]
def median(name):
    runs = sorted((json.load(open(f"{out}/{name}{r}.json")) for r in (1, 2, 3)),
                  key=lambda run: run["samples_per_sec"])
    return runs[1]
c = median("colony")
l = median("libtorch")
p = json.load(open(f"{out}/pytorch.json"))
p_rate, p_auc = p["dnn"]["samples_per_sec"], p["dnn"]["test_auc"]
bayes = json.load(open(f"{data}/truth.json"))["bayes_auc"]
print(f"data {data}, {threads} LibTorch thread(s), bayes_auc {bayes:.4f}")
print(f"{'run':<10}{'samples/s':>12}{'test auc':>10}")
for name, rate, auc in [("colony", c["samples_per_sec"], c["test_auc"]),
                        ("libtorch", l["samples_per_sec"], l["test_auc"]),
                        ("pytorch", p_rate, p_auc)]:
    print(f"{name:<10}{rate:>12.0f}{auc:>10.4f}")
print(f"colony / libtorch = {c['samples_per_sec'] / l['samples_per_sec']:.2f}x, "
      f"colony / pytorch = {c['samples_per_sec'] / p_rate:.2f}x")
PY
rm -rf "$OUT"
