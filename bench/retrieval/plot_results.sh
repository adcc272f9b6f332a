#!/usr/bin/env bash
# Plots OUT_DIR/results.csv (from colony_retrieval_bench) into OUT_DIR/recall_qps.png: one
# panel per data set, QPS (log scale) against recall@10, one line per method (and per M for
# the tree index).
set -euo pipefail
OUT=${1:?usage: plot_results.sh OUT_DIR}
DATA="$OUT/plot_data"
rm -rf "$DATA" && mkdir -p "$DATA"
# One file per (data set, series): "recall qps" rows sorted by recall.
tail -n +2 "$OUT/results.csv" | while IFS=, read -r dataset method param recall qps build; do
  series=$method
  if [ "$method" = tree ]; then series="tree_${param%% *}"; fi
  echo "$recall $qps" >> "$DATA/${dataset}__${series}.dat"
done
for f in "$DATA"/*.dat; do sort -n -o "$f" "$f"; done
datasets=$(tail -n +2 "$OUT/results.csv" | cut -d, -f1 | sort -u)
n=$(echo "$datasets" | wc -l)
{
  echo "set terminal png size $((560 * n)),420"
  echo "set output '$OUT/recall_qps.png'"
  echo "set multiplot layout 1,$n"
  echo "set termoption noenhanced; set logscale y; set grid; set key bottom left; set xrange [0.5:1]"
  echo "set xlabel 'recall@10'; set ylabel 'queries/s (1 thread)'"
  for d in $datasets; do
    echo "set title '$d'"
    plots=""
    for f in "$DATA/${d}__"*.dat; do
      name=$(basename "$f" .dat); name=${name#${d}__}; name=${name//_/ }
      plots+="'$f' using 1:2 with linespoints title '$name', "
    done
    echo "set arrow from 0.9, graph 0 to 0.9, graph 1 nohead dt 2"
    echo "plot ${plots%, }"
    echo "unset arrow"
  done
  echo "unset multiplot"
} > "$DATA/plot.gnuplot"
gnuplot "$DATA/plot.gnuplot"
echo "wrote $OUT/recall_qps.png"
