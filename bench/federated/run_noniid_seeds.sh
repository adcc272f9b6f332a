#!/usr/bin/env bash
# One global model on non-IID Fashion-MNIST over seeds: 4 children, encoder and head both
# aggregated (train.share_head), SGD momentum 0.9, learning rate 0.02 with a cosine schedule over
# the rounds, 10000 test images. Every run is set against the same model trained centrally on
# the union of the children's samples, on the same sample budget and schedule
# (`colony fl simulate`). Setups on Dirichlet 0.1, all with the same budget:
#   epochs:   one local epoch per round (~78 mini-batches of 32 per child), ROUNDS*10*128/10000
#             rounds;
#   steps:    10 local mini-batches per round, ROUNDS rounds;
#   scaffold: steps with SCAFFOLD control variates weighted by sample count.
# and `steps` on IID and Dirichlet 0.5 too.
# Writes OUT_DIR/<setup>_<split>_<seed>.json, OUT_DIR/noniid_seeds.csv (final accuracy,
# central, gap in points, epochs of samples) and OUT_DIR/noniid_accuracy.png (first seed).
#   bench/federated/run_noniid_seeds.sh OUT_DIR [ROUNDS=320] [SEED ...]
set -euo pipefail
OUT=${1:?usage: run_noniid_seeds.sh OUT_DIR [ROUNDS] [SEED ...]}
ROUNDS=${2:-320}
shift $(($# < 2 ? $# : 2))
SEEDS=("$@")
[ ${#SEEDS[@]} -eq 0 ] && SEEDS=(1 2 3)
COLONY=${COLONY:-build/colony}
CONFIG=examples/federated/horizontal_fmnist.yaml
STEPS=10
TRAIN_SAMPLES=10000
EPOCH_ROUNDS=$(((ROUNDS * STEPS * 32 * 4 + TRAIN_SAMPLES - 1) / TRAIN_SAMPLES))
COMMON=(--set horizontal.train.share_head=true --set horizontal.train.lr_schedule=cosine
        --set horizontal.data.train_samples=$TRAIN_SAMPLES --set horizontal.data.test_samples=10000)
declare -A SETUP=(
  [epochs]="rounds=$EPOCH_ROUNDS"
  [steps]="rounds=$ROUNDS local_steps=$STEPS"
  [scaffold]="rounds=$ROUNDS local_steps=$STEPS scaffold=true scaffold_weights=samples"
)
mkdir -p "$OUT"
echo "setup,split,alpha,seed,rounds,local_steps,test_accuracy,central_accuracy,gap_points,seconds" > "$OUT/noniid_seeds.csv"
run() {  # setup split alpha seed
  local setup=$1 split=$2 alpha=$3 seed=$4 args=()
  for kv in ${SETUP[$setup]}; do args+=(--set "horizontal.train.$kv"); done
  local name=${setup}_${split}${alpha}_$seed
  echo "== $name"
  "$COLONY" fl simulate --children 4 "$CONFIG" --summary-json "$OUT/$name.json" "${COMMON[@]}" \
    "${args[@]}" --set horizontal.data.split="$split" --set horizontal.data.alpha="${alpha:-0.5}" \
    --set horizontal.data.seed="$seed" --set horizontal.train.seed="$seed" | grep -E "^simulate: after"
  python3 - "$OUT/$name.json" "$setup" "$seed" "${SETUP[$setup]}" >> "$OUT/noniid_seeds.csv" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); setup, seed, kv = sys.argv[2:5]
steps = dict(x.split("=") for x in kv.split()).get("local_steps", "")
print(f"{setup},{s['split']},{s['alpha'] if s['split'] == 'dirichlet' else ''},{seed},"
      f"{s['rounds']},{steps},{s['test_accuracy']:.4f},{s['central_accuracy']:.4f},"
      f"{100 * (s['central_accuracy'] - s['test_accuracy']):.2f},{s['seconds']:.0f}")
PY
}
for seed in "${SEEDS[@]}"; do
  for setup in epochs steps scaffold; do run "$setup" dirichlet 0.1 "$seed"; done
  run steps dirichlet 0.5 "$seed"
  run steps iid "" "$seed"
done
# Accuracy per epoch of samples (all children together) for the first seed's Dirichlet 0.1 runs.
first=${SEEDS[0]}
for setup in epochs steps scaffold; do
  python3 - "$OUT/${setup}_dirichlet0.1_$first.json" "$setup" "$EPOCH_ROUNDS" > "$OUT/$setup.dat" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); setup, epoch_rounds = sys.argv[2], int(sys.argv[3])
per_round = 1.0 if setup == "epochs" else epoch_rounds / s["rounds"]
for r, a in enumerate(s["round_accuracy"], 1):
    print(f"{r * per_round:.3f} {a} {s['central_accuracy']}")
PY
done
cat > "$OUT/plot.gnuplot" <<GP
set terminal png size 900,520
set output '$OUT/noniid_accuracy.png'
set termoption noenhanced; set grid; set key bottom right; set yrange [0.3:0.9]
set title 'global model, Dirichlet 0.1 over 4 children, seed $first (cosine learning rate)'
set xlabel 'epochs of samples (all children)'
set ylabel 'test accuracy, Fashion-MNIST (10000 images)'
plot '$OUT/epochs.dat' using 1:2 with linespoints title '1 local epoch per round', \\
     '$OUT/steps.dat' using 1:2 with lines lw 2 title '$STEPS local steps per round', \\
     '$OUT/scaffold.dat' using 1:2 with lines lw 2 title '$STEPS local steps + SCAFFOLD', \\
     '$OUT/steps.dat' using 1:3 with lines dt 2 lw 2 title 'central, same budget'
GP
gnuplot "$OUT/plot.gnuplot"
cat "$OUT/noniid_seeds.csv"
echo "wrote $OUT/noniid_accuracy.png"
