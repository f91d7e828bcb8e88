#!/usr/bin/env bash
# Installs the npm packages the IPFS tests compare p2plab's CIDs with (js-ipfs-unixfs's importer,
# the one Helia uses, and its block store), at the versions package-lock.json pins, into
# tools/npm-refs/node_modules (git-ignored). Called by tools/install-deps.sh; never at build time.
# Does nothing, and needs no network, when they are there already.
set -euo pipefail
cd "$(dirname "$0")/npm-refs"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "p2plab: node and npm are needed for the IPFS reference CIDs (tools/install-deps.sh installs them)" >&2
  exit 1
fi
# `npm ls` checks the installed tree against package.json and the lock, offline.
if [ -d node_modules ] && npm ls --depth=0 >/dev/null 2>&1; then
  echo "p2plab: npm reference packages present"
  exit 0
fi
echo "p2plab: installing the npm reference packages (tools/npm-refs, pinned by package-lock.json)"
npm ci --no-audit --no-fund --loglevel=error || { echo "p2plab: 'npm ci' failed; trying once more" >&2; sleep 5; npm ci --no-audit --no-fund --loglevel=error; }
