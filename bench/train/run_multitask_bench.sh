#!/usr/bin/env bash
# Shared-bottom vs MMoE on `colony gen multitask` data (the MMoE paper's two regression tasks)
# at task correlations CORRS, each on SEEDS generator+init seeds, after EPOCHS epochs
# (examples/multitask/*.yaml) at each learning rate of LRS; each model is reported at its
# best learning rate (lowest mean test MSE over the seeds), and a rare task (MMoE, the
# examples' learning rate 0.005): task mixes
# 0.95/0.05 and 0.99/0.01 at correlation 0.5, and 0.99/0.01 at correlation 1, with partly full
# queues flushed after 50 steps or only at the end of the data.
#   bench/train/run_multitask_bench.sh [ROWS] [EPOCHS] [SEEDS] [CORRS] [LRS]  (after scripts/build.sh)
# Prints the test MSE of each task (mean over seeds), MMoE's over shared-bottom's, and for
# the mixes each task's samples, batches (partly full), queue depth, staleness and test MSE.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
ROWS=${1:-50000}
EPOCHS=${2:-3}
SEEDS=${3:-1 2 3}
CORRS=${4:-1.0 0.5 0.0}
LRS=${5:-0.002 0.005 0.01}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
COLONY="$BUILD_DIR/colony"
train() {  # MODEL DATA SUMMARY [--set ...]
  local model=$1 data=$2 summary=$3
  shift 3
  "$COLONY" train "examples/multitask/$model.yaml" --set "data.dir=$data" \
    --set "train.epochs=$EPOCHS" --set train.log_every_seconds=1000 --summary-json "$summary" \
    "$@" >/dev/null 2>&1
}
for corr in $CORRS; do
  for seed in $SEEDS; do
    echo "correlation $corr, seed $seed ..." >&2
    data="$OUT/data-$corr-$seed"
    "$COLONY" gen multitask --out "$data" --rows "$ROWS" --correlation "$corr" --seed "$seed" \
      >/dev/null
    for model in shared_bottom mmoe; do
      for lr in $LRS; do
        train "$model" "$data" "$OUT/$model-$corr-$seed-$lr.json" --set "train.seed=$seed" \
          --set "optimizer.learning_rate=$lr"
      done
    done
  done
  rm -rf "$OUT"/data-*
done
for rare in 0.95,0.05:0.5 0.99,0.01:0.5 0.99,0.01:1.0; do
  mix=${rare%:*}
  corr=${rare#*:}
  echo "task mix $mix, correlation $corr ..." >&2
  data="$OUT/rare-$rare"
  "$COLONY" gen multitask --out "$data" --rows "$ROWS" --correlation "$corr" --task-mix "$mix" \
    >/dev/null
  for wait in 50 0; do
    train mmoe "$data" "$OUT/rare-$rare-$wait.json" --set "queues.max_wait_steps=$wait"
  done
  cp "$data/truth.json" "$OUT/truth-$rare.json"
  rm -rf "$data"
done
/usr/bin/python3 - "$OUT" "$ROWS" "$EPOCHS" "$SEEDS" "$CORRS" "$LRS" <<'PY'
import json, sys
out, rows, epochs, seeds, corrs, lrs = sys.argv[1:]
seeds, lrs = seeds.split(), lrs.split()
def load(name):
    return json.load(open(f"{out}/{name}.json"))
def mses(model, corr, lr):
    runs = [load(f"{model}-{corr}-{s}-{lr}") for s in seeds]
    per_task = [sum(r["tasks"][t]["test_mse"] for r in runs) / len(runs) for t in ("0", "1")]
    worst = sum(max(r["tasks"][t]["test_mse"] for t in ("0", "1")) for r in runs) / len(runs)
    return per_task, worst
def best(model, corr):
    return min(((mses(model, corr, lr), lr) for lr in lrs), key=lambda x: sum(x[0][0]))
print(f"{rows} samples (90 % train), {epochs} epochs, seeds {' '.join(seeds)}, learning rates "
      f"{' '.join(lrs)}; test MSE per task, mean over seeds, each model at its best learning "
      f"rate (label variance about 9, noise floor 0.01)")
print(f"{'corr':>5} {'shared-bottom t0 / t1':>22} {'worst':>7} {'lr':>6} {'MMoE t0 / t1':>16} "
      f"{'worst':>7} {'lr':>6} {'MMoE/SB mean':>13} {'MMoE/SB worst':>14}")
for c in corrs.split():
    ((s0, s1), sw), slr = best("shared_bottom", c)
    ((m0, m1), mw), mlr = best("mmoe", c)
    print(f"{c:>5} {f'{s0:.4f} / {s1:.4f}':>22} {sw:>7.4f} {slr:>6} {f'{m0:.4f} / {m1:.4f}':>16} "
          f"{mw:>7.4f} {mlr:>6} {(m0 + m1) / (s0 + s1):>12.2f}x {mw / sw:>13.2f}x")
print("mean test MSE of both tasks at each learning rate:")
for c in corrs.split():
    for model in ("shared_bottom", "mmoe"):
        cells = "  ".join(f"{lr}: {sum(mses(model, c, lr)[0]) / 2:.4f}" for lr in lrs)
        print(f"  corr {c} {model:>13}  {cells}")
print()
print("rare task (MMoE): per task samples trained, batches (partly full), queue depth "
      "mean/max, staleness mean/max in steps, test MSE (and the task's test label variance)")
for rare in ("0.95,0.05:0.5", "0.99,0.01:0.5", "0.99,0.01:1.0"):
    mix, corr = rare.split(":")
    truth = load(f"truth-{rare}")
    for wait in ("50", "0"):
        s = load(f"rare-{rare}-{wait}")
        for t in ("0", "1"):
            x = s["tasks"][t]
            print(f"mix {mix} corr {corr} max_wait_steps {wait:>2} task {t}: {x['samples']:>7} "
                  f"samples, {x['batches']:>5} batches ({x['partial_batches']:>3} partly full), "
                  f"depth {x['queue_depth_mean']:6.1f}/{x['queue_depth_max']:>3}, staleness "
                  f"{x['staleness_mean']:6.2f}/{x['staleness_max']:>3}, test MSE "
                  f"{x['test_mse']:.4f} ({truth['test_label_variance'][int(t)]:.2f}), train "
                  f"rows {truth['train_task_rows'][int(t)]:.0f}")
PY
