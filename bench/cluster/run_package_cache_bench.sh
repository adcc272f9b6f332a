#!/usr/bin/env bash
# What the dependency-package cache saves: `colony package prepare` of a dependency folder of
# FILES files (TOTAL_MB MB in all, random bytes) as a first submission (empty cache: fingerprint,
# pack, unpack) and as a repeated one (same sub-directory and content: fingerprint, checksum
# check of the stored package), three interleaved rounds, medians and their ratio: of the
# time colony reports for the preparation, and of the command's wall time (which adds the
# start of the colony binary).
#   bench/cluster/run_package_cache_bench.sh [FILES] [TOTAL_MB]      (after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
FILES=${1:-200}
TOTAL_MB=${2:-50}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
echo "making $FILES files, $TOTAL_MB MB in $OUT/job/deps"
mkdir -p "$OUT/job/deps"
/usr/bin/python3 - "$OUT/job/deps" "$FILES" "$TOTAL_MB" <<'PY'
import os, random, sys
folder, files, total_mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size = total_mb * 1024 * 1024 // files
rng = random.Random(7)
for i in range(files):
    sub = os.path.join(folder, f"part{i % 10}")
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, f"file{i:04d}.bin"), "wb") as f:
        f.write(rng.randbytes(size))
PY
printf 'job:\n  dependencies: deps\n' >"$OUT/job/job.yaml"
prepare() {  # cache folder, name: wall seconds to $OUT/NAME.s, output to $OUT/NAME.log
  local start end
  start=$(date +%s.%N)
  "$BUILD_DIR/colony" package prepare "$OUT/job/job.yaml" --cache "$1" --task-id "$2" \
    >"$OUT/$2.log"
  end=$(date +%s.%N)
  /usr/bin/python3 -c "print(f'{$end - $start:.3f}')" >"$OUT/$2.s"
  echo "  $2: $(head -1 "$OUT/$2.log") (wall $(cat "$OUT/$2.s") s)"
}
for round in 1 2 3; do
  rm -rf "$OUT/cache"
  prepare "$OUT/cache" "first$round"
  prepare "$OUT/cache" "repeat$round"
done
/usr/bin/python3 - "$OUT" "$FILES" "$TOTAL_MB" <<'PY'
import re, statistics, sys
out, files, mb = sys.argv[1:]
def wall(name, r):
    return float(open(f"{out}/{name}{r}.s").read())
def prepare(name, r):  # the seconds colony prints: fingerprint (+ pack + unpack on a miss)
    return float(re.search(r"in ([0-9.]+) s", open(f"{out}/{name}{r}.log").readline()).group(1))
for what, fn in (("time in the cache", prepare), ("wall time of the command", wall)):
    first = statistics.median(fn("first", r) for r in (1, 2, 3))
    repeat = statistics.median(fn("repeat", r) for r in (1, 2, 3))
    print(f"package cache, {files} files / {mb} MB, {what}: first submission {first:.3f} s, "
          f"repeated {repeat:.3f} s (medians of 3): repeated is {first / repeat:.2f}x faster")
PY
