#!/usr/bin/env bash
# Runs colony_retrieval_bench (tree index vs hnswlib vs faiss IVF-Flat) and plots recall@10
# against QPS for each data set with gnuplot.
#   bench/retrieval/run_retrieval_bench.sh [OUT_DIR] [extra bench flags...]
# Writes OUT_DIR/results.csv, OUT_DIR/bench.log and OUT_DIR/recall_qps.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-bench_out/retrieval}
shift || true
mkdir -p "$OUT"
build/bench/retrieval/colony_retrieval_bench --out "$OUT" "$@" | tee "$OUT/bench.log"
bench/retrieval/plot_results.sh "$OUT"
