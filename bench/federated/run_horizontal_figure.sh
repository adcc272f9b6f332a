#!/usr/bin/env bash
# Horizontal FL figure: test accuracy per round for IID and Dirichlet(0.5 / 0.1) splits of
# Fashion-MNIST over K children (FedAvg), each against the same model trained centrally on the
# union of the children's samples for rounds x local_epochs epochs with the same optimizer. Two
# setups:
#   local:  shared encoder, a head local to each child (the default config). Measured on all
#           test classes, and with test classes weighted by each child's label share (what its
#           head serves; the central model is weighted the same way).
#   global: encoder and head both aggregated (train.share_head), server momentum 0.7
#           (FedAvgM), FedProx mu 0.01 and learning rate 0.01: one global model, on all test
#           classes (its central baseline also trains with learning rate 0.01).
# Writes OUT_DIR/<setup>_<split>.json (colony fl simulate summaries), OUT_DIR/.dat files,
# OUT_DIR/horizontal_results.csv and OUT_DIR/horizontal_accuracy.png (gnuplot).
#   bench/federated/run_horizontal_figure.sh OUT_DIR [ROUNDS] [CHILDREN] [extra --set ...]
set -euo pipefail
OUT=${1:?usage: run_horizontal_figure.sh OUT_DIR [ROUNDS] [CHILDREN] [--set key=value ...]}
ROUNDS=${2:-20}
CHILDREN=${3:-4}
shift $(($# < 3 ? $# : 3))
COLONY=${COLONY:-build/colony}
CONFIG=examples/federated/horizontal_fmnist.yaml
GLOBAL=(--set horizontal.train.share_head=true --set horizontal.train.server_momentum=0.7
        --set horizontal.train.prox_mu=0.01 --set horizontal.train.learning_rate=0.01)
mkdir -p "$OUT"
echo "setup,split,alpha,children,rounds,test_accuracy,central_accuracy,gap_points,local_accuracy,central_local_accuracy,local_gap_points" > "$OUT/horizontal_results.csv"
for setup in local global; do
  extra=()
  [ "$setup" = global ] && extra=("${GLOBAL[@]}")
  for split in iid dirichlet_0.5 dirichlet_0.1; do
    kind=${split%%_*}
    alpha=${split#dirichlet_}; [ "$kind" = iid ] && alpha=0.5
    name=${setup}_$split
    echo "== $name: $CHILDREN children, $ROUNDS rounds"
    "$COLONY" fl simulate --children "$CHILDREN" "$CONFIG" --summary-json "$OUT/$name.json" \
      --set horizontal.train.rounds="$ROUNDS" --set horizontal.data.split="$kind" \
      --set horizontal.data.alpha="$alpha" "${extra[@]}" "$@" | grep -E "^simulate:|^\[master\]"
    python3 - "$OUT/$name.json" "$setup" "$split" "$OUT" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); setup, split, out = sys.argv[2:5]
with open(f"{out}/{setup}_{split}.dat", "w") as f:
    for r, (a, l) in enumerate(zip(s["round_accuracy"], s["round_local_accuracy"]), 1):
        f.write(f"{r} {a} {s['central_accuracy']} {l} {s['central_local_accuracy']}\n")
with open(f"{out}/horizontal_results.csv", "a") as f:
    gap = 100 * (s["central_accuracy"] - s["test_accuracy"])
    local_gap = 100 * (s["central_local_accuracy"] - s["local_accuracy"])
    f.write(f"{setup},{split},{s['alpha'] if s['split'] == 'dirichlet' else ''},{s['children']},"
            f"{s['rounds']},{s['test_accuracy']:.4f},{s['central_accuracy']:.4f},{gap:.2f},"
            f"{s['local_accuracy']:.4f},{s['central_local_accuracy']:.4f},{local_gap:.2f}\n")
PY
  done
done
cat > "$OUT/plot.gnuplot" <<GP
set terminal png size 1500,460
set output '$OUT/horizontal_accuracy.png'
set multiplot layout 1,3
set termoption noenhanced; set grid; set key bottom right; set yrange [0:1]
set xlabel 'round'
set title 'local heads: all test classes'
set ylabel 'test accuracy, Fashion-MNIST'
plot '$OUT/local_iid.dat' using 1:2 with linespoints title 'IID', \
     '$OUT/local_dirichlet_0.5.dat' using 1:2 with linespoints title 'Dirichlet 0.5', \
     '$OUT/local_dirichlet_0.1.dat' using 1:2 with linespoints title 'Dirichlet 0.1', \
     '$OUT/local_iid.dat' using 1:3 with lines dt 2 lw 2 title 'central'
set title "local heads: each child's label distribution"
set ylabel 'accuracy, test classes weighted by child label share'
plot '$OUT/local_iid.dat' using 1:4 with linespoints title 'IID', \
     '$OUT/local_dirichlet_0.5.dat' using 1:4 with linespoints title 'Dirichlet 0.5', \
     '$OUT/local_dirichlet_0.1.dat' using 1:4 with linespoints title 'Dirichlet 0.1', \
     '$OUT/local_iid.dat' using 1:5 with lines dt 2 lw 2 title 'central, same weighting'
set title 'global model (shared head, FedAvgM, prox): all classes'
set ylabel 'test accuracy, Fashion-MNIST'
plot '$OUT/global_iid.dat' using 1:2 with linespoints title 'IID', \
     '$OUT/global_dirichlet_0.5.dat' using 1:2 with linespoints title 'Dirichlet 0.5', \
     '$OUT/global_dirichlet_0.1.dat' using 1:2 with linespoints title 'Dirichlet 0.1', \
     '$OUT/global_iid.dat' using 1:3 with lines dt 2 lw 2 title 'central (lr 0.01)'
unset multiplot
GP
gnuplot "$OUT/plot.gnuplot"
cat "$OUT/horizontal_results.csv"
echo "wrote $OUT/horizontal_accuracy.png"
