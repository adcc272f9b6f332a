#!/usr/bin/env bash
# SCAFFOLD against the other non-IID setups on Fashion-MNIST, over seeds: 4 children,
# Dirichlet 0.1 and 0.5, each run against the same model trained centrally with the same
# optimizer (`colony fl simulate`). Setups (all aggregate the head too, train.share_head):
#   global:     server momentum 0.7, FedProx 0.01, SGD momentum 0.9, learning rate 0.01 (the
#               "global" setup of run_horizontal_figure.sh);
#   fedavg_sgd: plain SGD (train.momentum 0), learning rate 0.1, plain FedAvg;
#   scaffold:   fedavg_sgd with SCAFFOLD control variates weighted by sample count.
# Writes OUT_DIR/<setup>_<alpha>_<seed>.json and OUT_DIR/scaffold_seeds.csv (final accuracy,
# central, gap in points, and the mean accuracy of the last 5 rounds).
#   bench/federated/run_scaffold_seeds.sh OUT_DIR [ROUNDS] [SEED ...]
set -euo pipefail
OUT=${1:?usage: run_scaffold_seeds.sh OUT_DIR [ROUNDS] [SEED ...]}
ROUNDS=${2:-20}
shift $(($# < 2 ? $# : 2))
SEEDS=("$@")
[ ${#SEEDS[@]} -eq 0 ] && SEEDS=(1 2 3)
COLONY=${COLONY:-build/colony}
CONFIG=examples/federated/horizontal_fmnist.yaml
declare -A SETUP=(
  [global]="server_momentum=0.7 prox_mu=0.01 learning_rate=0.01"
  [fedavg_sgd]="momentum=0 learning_rate=0.1"
  [scaffold]="momentum=0 learning_rate=0.1 scaffold=true scaffold_weights=samples"
)
mkdir -p "$OUT"
echo "setup,alpha,seed,rounds,test_accuracy,central_accuracy,gap_points,last5_mean_accuracy" > "$OUT/scaffold_seeds.csv"
for setup in global fedavg_sgd scaffold; do
  args=(--set horizontal.train.share_head=true)
  for kv in ${SETUP[$setup]}; do args+=(--set "horizontal.train.$kv"); done
  for alpha in 0.1 0.5; do
    for seed in "${SEEDS[@]}"; do
      name=${setup}_${alpha}_$seed
      echo "== $name: $ROUNDS rounds"
      "$COLONY" fl simulate --children 4 "$CONFIG" --summary-json "$OUT/$name.json" \
        --set horizontal.train.rounds="$ROUNDS" --set horizontal.data.split=dirichlet \
        --set horizontal.data.alpha="$alpha" --set horizontal.data.seed="$seed" \
        --set horizontal.train.seed="$seed" "${args[@]}" | grep -E "^simulate: after"
      python3 - "$OUT/$name.json" "$setup" "$seed" >> "$OUT/scaffold_seeds.csv" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); setup, seed = sys.argv[2:4]
last = s["round_accuracy"][-5:]
print(f"{setup},{s['alpha']},{seed},{s['rounds']},{s['test_accuracy']:.4f},"
      f"{s['central_accuracy']:.4f},{100 * (s['central_accuracy'] - s['test_accuracy']):.2f},"
      f"{sum(last) / len(last):.4f}")
PY
    done
  done
done
cat "$OUT/scaffold_seeds.csv"
