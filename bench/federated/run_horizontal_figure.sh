#!/usr/bin/env bash
# Horizontal FL figure: test accuracy per round of the shared encoder (K children, FedAvg) for
# IID and Dirichlet(0.5 / 0.1) splits of Fashion-MNIST, against the same model trained centrally
# on the union of the children's samples for rounds x local_epochs epochs: on all test classes,
# and with test classes weighted by each child's label share (what its local head serves). Writes
# OUT_DIR/<split>.json (colony fl simulate summaries), OUT_DIR/horizontal_results.csv and
# OUT_DIR/horizontal_accuracy.png (gnuplot).
#   bench/federated/run_horizontal_figure.sh OUT_DIR [ROUNDS] [CHILDREN] [extra --set ...]
set -euo pipefail
OUT=${1:?usage: run_horizontal_figure.sh OUT_DIR [ROUNDS] [CHILDREN] [--set key=value ...]}
ROUNDS=${2:-20}
CHILDREN=${3:-4}
shift $(($# < 3 ? $# : 3))
COLONY=${COLONY:-build/colony}
CONFIG=examples/federated/horizontal_fmnist.yaml
mkdir -p "$OUT"
echo "split,alpha,children,rounds,test_accuracy,central_accuracy,gap_points,local_accuracy,central_local_accuracy,local_gap_points" > "$OUT/horizontal_results.csv"
for split in iid dirichlet_0.5 dirichlet_0.1; do
  kind=${split%%_*}
  alpha=${split#dirichlet_}; [ "$kind" = iid ] && alpha=0.5
  echo "== $split: $CHILDREN children, $ROUNDS rounds"
  "$COLONY" fl simulate --children "$CHILDREN" "$CONFIG" --summary-json "$OUT/$split.json" \
    --set horizontal.train.rounds="$ROUNDS" --set horizontal.data.split="$kind" \
    --set horizontal.data.alpha="$alpha" "$@" | grep -E "^simulate:|^\[master\]"
  python3 - "$OUT/$split.json" "$split" "$OUT" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); name = sys.argv[2]; out = sys.argv[3]
with open(f"{out}/{name}.dat", "w") as f:
    for r, (a, l) in enumerate(zip(s["round_accuracy"], s["round_local_accuracy"]), 1):
        f.write(f"{r} {a} {s['central_accuracy']} {l} {s['central_local_accuracy']}\n")
with open(f"{out}/horizontal_results.csv", "a") as f:
    gap = 100 * (s["central_accuracy"] - s["test_accuracy"])
    local_gap = 100 * (s["central_local_accuracy"] - s["local_accuracy"])
    f.write(f"{name},{s['alpha'] if s['split'] == 'dirichlet' else ''},{s['children']},"
            f"{s['rounds']},{s['test_accuracy']:.4f},{s['central_accuracy']:.4f},{gap:.2f},"
            f"{s['local_accuracy']:.4f},{s['central_local_accuracy']:.4f},{local_gap:.2f}\n")
PY
done
cat > "$OUT/plot.gnuplot" <<GP
set terminal png size 1200,460
set output '$OUT/horizontal_accuracy.png'
set multiplot layout 1,2
set termoption noenhanced; set grid; set key bottom right; set yrange [0:1]
set xlabel 'round'
set title 'all test classes (shared encoder + each child head)'
set ylabel 'test accuracy, Fashion-MNIST'
plot '$OUT/iid.dat' using 1:2 with linespoints title 'IID', \
     '$OUT/dirichlet_0.5.dat' using 1:2 with linespoints title 'Dirichlet 0.5', \
     '$OUT/dirichlet_0.1.dat' using 1:2 with linespoints title 'Dirichlet 0.1', \
     '$OUT/iid.dat' using 1:3 with lines dt 2 lw 2 title 'central'
set title "test classes weighted by each child's label share"
set ylabel 'accuracy on the child label distribution'
plot '$OUT/iid.dat' using 1:4 with linespoints title 'IID', \
     '$OUT/dirichlet_0.5.dat' using 1:4 with linespoints title 'Dirichlet 0.5', \
     '$OUT/dirichlet_0.1.dat' using 1:4 with linespoints title 'Dirichlet 0.1', \
     '$OUT/iid.dat' using 1:5 with lines dt 2 lw 2 title 'central'
unset multiplot
GP
gnuplot "$OUT/plot.gnuplot"
cat "$OUT/horizontal_results.csv"
echo "wrote $OUT/horizontal_accuracy.png"
