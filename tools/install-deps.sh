#!/usr/bin/env bash
# Installs the Debian packages p2plab needs, and only those that are missing. Never prompts
# (works in CI with no stdin); does nothing when everything is present.
set -euo pipefail

packages=(
  # compiler and build
  build-essential cmake pkg-config git
  # engine, protocols, command line, tests
  libssl-dev nlohmann-json3-dev libcli11-dev doctest-dev
  # visualizer (Dear ImGui with its GLFW and OpenGL 3 backends) and its headless tests
  libimgui-dev libstb-dev libglfw3-dev libgl-dev libgl1-mesa-dri xvfb xauth
  # real network mode
  libsfml-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "p2plab: all ${#packages[@]} build dependencies present"
  exit 0
fi

echo "p2plab: installing missing packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "p2plab: cannot install packages: not root and no sudo. Install as root: apt-get install ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt() {
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" </dev/null
}
retry() {
  "$@" || { echo "p2plab: '$*' failed; trying once more" >&2; sleep 5; "$@"; }
}
retry apt -q update
retry apt -q install -y --no-install-recommends "${missing[@]}"
echo "p2plab: dependencies installed"
