#!/usr/bin/env bash
# Installs the Debian packages p2plab needs, and only those that are missing. Never prompts
# (works in CI with no stdin); does nothing, and calls no apt-get, when everything is present.
# Then the npm packages the IPFS tests compare with (tools/install-npm-refs.sh).
#   tools/install-deps.sh [--no-gui]   --no-gui: without the visualizer's packages, the IPFS
#                                      references and the BEP 5 clients (graders need none)
set -euo pipefail

gui=1
[ "${1:-}" = "--no-gui" ] && gui=0
packages=(
  # compiler and build
  build-essential cmake pkg-config git
  # ./test.sh: Ninja schedules the build, ccache lets the student-release check reuse its objects
  ninja-build ccache
  # LLVM's linker: links the suite's hundred sanitized programs in less time than GNU ld
  lld
  # engine, protocols, command line, tests
  libssl-dev nlohmann-json3-dev libcli11-dev doctest-dev
  # real network mode
  libsfml-dev
  # the wire decoders' libFuzzer target (tests/net/run_fuzz.sh; skipped without them)
  clang libclang-rt-14-dev
)
if [ "$gui" -eq 1 ]; then
  # the IPFS tests' independent CIDs: Debian's ipfs_cid (rust-ipfs-unixfs), and node for the npm
  # importer (a node already on the PATH, e.g. from NodeSource, is used as it is)
  packages+=(ipfs-cid)
  # the Kademlia node's interop tests with real BitTorrent DHT clients (tests/net/bep5_interop.py)
  packages+=(python3-libtorrent aria2)
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || packages+=(npm)
fi
if [ "$gui" -eq 1 ]; then
  # visualizer (Dear ImGui with its GLFW and OpenGL 3 backends) and its headless tests
  packages+=(libimgui-dev libstb-dev libglfw3-dev libgl-dev libgl1-mesa-dri xvfb xauth xdotool fonts-dejavu-core)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

npm_refs() {
  if [ "$gui" -eq 1 ]; then "$(dirname "$0")/install-npm-refs.sh"; fi
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "p2plab: all ${#packages[@]} build dependencies present"
  npm_refs
  exit 0
fi

echo "p2plab: missing packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  # In CI or without a terminal, fail instead of waiting for a password nobody can type.
  if [ -n "${CI:-}" ] || ! [ -t 0 ]; then sudo=(sudo -n); else sudo=(sudo); fi
else
  echo "p2plab: cannot install packages: not root and sudo is not installed." >&2
  echo "p2plab: as root, run: apt-get install ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_get() {
  # Wait for a running apt (e.g. unattended-upgrades on a fresh machine) instead of failing.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get -q -o DPkg::Lock::Timeout=300 "$@" </dev/null
}
retry() {
  "$@" || { echo "p2plab: '$*' failed; trying once more" >&2; sleep 5; "$@"; }
}
retry apt_get update
retry apt_get install -y --no-install-recommends "${missing[@]}"
echo "p2plab: dependencies installed"
npm_refs
