#!/usr/bin/env bash
# Builds the wire decoders' libFuzzer target with clang++ (-fsanitize=fuzzer,address,undefined)
# and runs it on a fixed number of inputs (default 100000, seed 1), starting from a corpus of
# valid datagrams. A count rather than a duration: the same work on an idle or a loaded machine
# (ctest's time limit only catches a hang).
#   tests/net/run_fuzz.sh [RUNS] [BUILD_DIR]
# Exit 0: no crash found. Exit 77 (ctest: skipped): clang++ or libclang-rt is not installed.
set -euo pipefail
runs=${1:-100000}
out=${2:-build/fuzz}
src=$(cd "$(dirname "$0")/../.." && pwd)
clang=$(command -v clang++ || command -v clang++-14 || true)
if [ -z "$clang" ]; then
  echo "run_fuzz: clang++ not found (apt-get install clang libclang-rt-14-dev); skipped"
  exit 77
fi
mkdir -p "$out/corpus"
# -gline-tables-only: a crash's stack trace names files and lines, at a fraction of -g's cost.
flags=(-std=c++20 -O1 -gline-tables-only -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$src/protocols/chord" -I"$src/protocols" -I"$src/engine/include" -I"$src/net/include")
# Only what the decoders need: the envelope, the monitor reports, the four wire.cpp, Kademlia's
# bencode and KRPC codec, and id.cpp for the id arithmetic (SHA-1: libcrypto). Compiled as one
# translation unit: the standard library and JSON headers are parsed once, not ten times (17 s of
# CPU instead of 45 s; the files share no internal names).
sources=(tests/net/fuzz_wire.cpp protocols/chord/wire.cpp protocols/flooding/wire.cpp protocols/superpeer/wire.cpp
         protocols/central_index/wire.cpp protocols/kademlia/bep5/bencode.cpp protocols/kademlia/bep5/krpc.cpp
         net/src/wire.cpp net/src/monitor.cpp engine/src/id.cpp)
printf '#include "%s"\n' "${sources[@]/#/$src/}" > "$out/fuzz_unity.cpp"
if ! "$clang" "${flags[@]}" "$out/fuzz_unity.cpp" -lcrypto -o "$out/fuzz_wire" 2> "$out/build.log"; then
  if grep -q "libclang_rt.fuzzer\|cannot find.*fuzzer" "$out/build.log"; then
    echo "run_fuzz: libclang-rt (libFuzzer) is not installed; skipped"
    exit 77
  fi
  cat "$out/build.log"
  exit 1
fi
# Seeds: a valid HELLO and a valid FIND_NEXT (CBOR written out by hand; see protocols/chord/README.md).
printf '\xa4\x61\x76\x01\x61\x6d\x10\x61\x6b\x01\x61\x73\x42\x12\x34' > "$out/corpus/hello"
printf '\xa6\x61\x76\x01\x61\x6d\x10\x61\x6b\x00\x61\x73\x41\x07\x61\x74\x00\x61\x79\x42\x01\x02' > "$out/corpus/find_next"
# BEP 5's example queries and responses (KRPC, bencoded).
printf 'd1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe' > "$out/corpus/get_peers"
printf 'd1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re' > "$out/corpus/values"
printf 'd1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe' > "$out/corpus/announce"
"$out/fuzz_wire" -runs="$runs" -seed=1 -max_len=1500 -rss_limit_mb=1024 -print_final_stats=1 \
  "$out/corpus" 2>&1 | tail -n 12
