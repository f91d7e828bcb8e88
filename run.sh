#!/usr/bin/env bash
# The main command: installs what is missing, builds, and opens a lab in the visualizer (or runs
# it headless when there is no display).
#   ./run.sh [LAB.json] [more arguments for p2plab-viz / p2plab run]
set -euo pipefail

lab="${1:-labs/chord-lookup-44.json}"
[ $# -gt 0 ] && shift
# A lab given relative to where the caller stands (outside the repository root) still works
# after the cd below.
root="$(cd "$(dirname "$0")" && pwd)"
if [ "$PWD" != "$root" ] && [ -f "$lab" ]; then
  lab="$(cd "$(dirname "$lab")" && pwd)/$(basename "$lab")"
fi
cd "$root"

tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
# Only the programs this command runs (the test programs are ./test.sh's business): the
# visualizer when there is a display to open it on, else the command-line program alone.
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  headless="no display found (DISPLAY is not set)"
elif grep -q '^P2PLAB_VISUALIZER:BOOL=OFF' build/CMakeCache.txt; then
  headless="the visualizer is switched off in build/ (-DP2PLAB_VISUALIZER=OFF)"
else
  cmake --build build -j"$(nproc)" --target p2plab p2plab-viz
  exec build/bin/p2plab-viz "$lab" "$@"
fi
cmake --build build -j"$(nproc)" --target p2plab
echo "p2plab: $headless: running the lab headless instead"
exec build/bin/p2plab run "$lab" --out build/result.json "$@"
