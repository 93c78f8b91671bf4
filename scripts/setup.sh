#!/usr/bin/env bash
# Installs what Veridian needs from Debian's packages (only what is missing,
# so a second run is quick) and builds everything into build/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
PKGS=(build-essential cmake ninja-build ccache verilator yosys tshark libboost-dev
      pybind11-dev python3-pybind11 python3-dev python3-pytest python3-scapy python3-matplotlib python3-tqdm chromium python3-distributed
      libgtest-dev zlib1g-dev iproute2 iputils-ping netcat-openbsd iperf3 curl valgrind)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
BUILD=${VD_BUILD_DIR:-$here/build}
# Debian's pybind11 and pytest live under /usr/bin/python3, not any other python3 on PATH.
cmake -S "$here" -B "$BUILD" -G Ninja -DVD_PYTHON=/usr/bin/python3 -DPython3_EXECUTABLE=/usr/bin/python3 \
      ${VD_CMAKE_ARGS:-} >/dev/null
ninja -C "$BUILD" -j "$(nproc)"
