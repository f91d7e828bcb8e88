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
cmake --build build -j"$(nproc)"

if [ -x build/bin/p2plab-viz ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec build/bin/p2plab-viz "$lab" "$@"
fi
if [ ! -x build/bin/p2plab-viz ]; then
  echo "p2plab: the visualizer is not built yet: running the lab headless instead"
else
  echo "p2plab: no display found (DISPLAY is not set): running the lab headless instead"
fi
exec build/bin/p2plab run "$lab" --out build/result.json "$@"
