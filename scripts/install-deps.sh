#!/usr/bin/env bash
# Installs every Debian package colony needs. Idempotent and non-interactive.
set -euo pipefail
PACKAGES=(
  build-essential cmake ccache pkg-config openssl
  libtorch-dev libopenblas0-pthread
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libyaml-cpp-dev librocksdb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libfmt-dev
  python3 python3-torch python3-numpy
  libhnswlib-dev libfaiss-dev dataset-fashion-mnist gnuplot-nox libgmp-dev zlib1g-dev python3-sklearn
  libsodium-dev nlohmann-json3-dev
  clang libclang-rt-14-dev
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
