#!/usr/bin/env bash
# The demo: installs dependencies if missing, builds colony, generates 200k rows of CTR data
# from a planted model, trains the DNN of examples/ctr/config.yaml and prints the metrics
# next to the generator's Bayes AUC (the best any model can reach on this data).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
DATA=${DATA:-data/ctr}
ROWS=${ROWS:-200000}
if [ ! -f "$DATA/truth.json" ]; then
  "$BUILD_DIR/colony" gen ctr --rows "$ROWS" --out "$DATA" --seed 7
fi
"$BUILD_DIR/colony" train examples/ctr/config.yaml --set "data.dir=$DATA" \
  --summary-json "$DATA/summary.json"
bayes=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["bayes_auc"])' \
  "$DATA/truth.json")
echo "best possible on this data (generator's bayes_auc $bayes)"
