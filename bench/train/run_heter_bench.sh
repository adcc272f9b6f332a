#!/usr/bin/env bash
# Strategy heter (an IO trainer, compute trainer threads and a built-in PS, exchanged with the
# servers once per pass) against strategy async (every step pulls from and pushes to the
# servers) on the same data, model and processes: `colony launch --servers 2 --workers W`
# with examples/heter/config.yaml, strategy overridden to async for the baseline.
#   bench/train/run_heter_bench.sh [ROWS] [WORKERS] [EPOCHS] [PASS_SAMPLES] [COMPUTE_THREADS]
#                                  [REPEATS]
# (after scripts/build.sh). Runs each job REPEATS times (default 3, async and heter in turn)
# and prints, per worker count, the median run of each strategy: training samples/s (all
# samples over the slowest worker's loop time), final test AUC, and heter's per-pass totals
# (passes, cache hit rate, MB exchanged, exchange time), then heter/async ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
ROWS=${1:-200000}
WORKERS=${2:-1 2}
EPOCHS=${3:-1}
PASS=${4:-10000}
THREADS=${5:-2}
REPEATS=${6:-3}
DATA=data/bench-ctr-$ROWS
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
[ -f "$DATA/truth.json" ] || "$BUILD_DIR/colony" gen ctr --rows "$ROWS" --out "$DATA" --seed 7
for workers in $WORKERS; do
  for r in $(seq "$REPEATS"); do
  for strategy in async heter; do
    echo "2 servers, $workers worker(s), $strategy, run $r ..." >&2
    "$BUILD_DIR/colony" launch --servers 2 --workers "$workers" examples/heter/config.yaml \
      --set "data.dir=$DATA" --set strategy=$strategy --set train.epochs="$EPOCHS" \
      --set heter.pass_samples="$PASS" --set heter.compute_threads="$THREADS" \
      --set train.log_every_seconds=1000 \
      --summary-json "$OUT/$strategy-$workers-$r.json" --run-dir "$OUT/run-$strategy-$workers-$r" \
      >"$OUT/$strategy-$workers-$r.log" 2>&1 || { cat "$OUT/$strategy-$workers-$r.log" >&2; exit 1; }
  done
  done
done
/usr/bin/python3 - "$OUT" "$DATA" "$WORKERS" "$EPOCHS" "$PASS" "$THREADS" "$REPEATS" <<'PY'
import json, sys
out, data, workers, epochs, pass_samples, threads, repeats = sys.argv[1:]
def run(strategy, w):  # The run of median samples/s.
    runs = []
    for r in range(1, int(repeats) + 1):
        s = json.load(open(f"{out}/{strategy}-{w}-{r}.json"))
        rate = s["samples"] / max(x["seconds"] for x in s["worker_summaries"])
        runs.append((rate, s))
    runs.sort(key=lambda x: x[0])
    rate, s = runs[len(runs) // 2]
    return s, rate, s["test_auc"]
print(f"data {data}, {epochs} epoch(s), 2 servers, examples/heter/config.yaml "
      f"(heter: passes of {pass_samples} samples, {threads} compute threads), "
      f"median of {repeats} runs")
print(f"{'workers':>7} {'async samples/s':>16} {'auc':>7} {'heter samples/s':>16} {'auc':>7} "
      f"{'passes':>7} {'hit rate':>9} {'MB exch':>8} {'exch s':>7} {'heter/async':>12} {'auc diff':>9}")
for w in workers.split():
    _, arate, aauc = run("async", w)
    s, hrate, hauc = run("heter", w)
    passes = sum(x["heter"]["passes"] for x in s["worker_summaries"])
    keys = sum(x["heter"]["total"]["keys"] for x in s["worker_summaries"])
    hits = sum(x["heter"]["total"]["cache_hits"] for x in s["worker_summaries"])
    mb = sum(x["heter"]["total"]["bytes"] for x in s["worker_summaries"]) / 1e6
    ex = max(x["heter"]["total"]["exchange_seconds"] for x in s["worker_summaries"])
    print(f"{w:>7} {arate:>16.0f} {aauc:>7.4f} {hrate:>16.0f} {hauc:>7.4f} {passes:>7} "
          f"{hits / max(keys, 1):>9.1%} {mb:>8.1f} {ex:>7.2f} {hrate / arate:>11.2f}x "
          f"{hauc - aauc:>+9.4f}")
PY
