#!/usr/bin/env bash
# The test command (CI runs exactly this through .ci/run): installs what is missing, then builds
# and runs the whole suite twice, as a Release build and under AddressSanitizer +
# UndefinedBehaviorSanitizer. Warnings are errors in both builds.
#   ./test.sh [ctest arguments]        e.g. ./test.sh -R chord   (given to both ctest runs)
#   P2PLAB_SKIP_ASAN=1 ./test.sh       skips the sanitizer build
# Both builds and both test runs always happen; the exit status is non-zero if either failed.
set -uo pipefail
cd "$(dirname "$0")" || exit 1

tools/install-deps.sh || exit 1
jobs=2
skip_asan=0
[ "${P2PLAB_SKIP_ASAN:-0}" = "1" ] && skip_asan=1
# Logs of an earlier run must not be counted as this run's.
rm -f build/ctest.log build-asan/ctest.log

echo "== release build =="
release=1 release_verdict="release build: FAILED"
if cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DP2PLAB_WERROR=ON >/dev/null &&
  cmake --build build -j"$jobs"; then
  ctest --test-dir build --output-on-failure -j"$jobs" "$@" 2>&1 | tee build/ctest.log
  release=${PIPESTATUS[0]}
  if [ "$release" -eq 0 ]; then release_verdict="release tests: passed"; else release_verdict="release tests: FAILED"; fi
fi

asan=0 asan_verdict="sanitizer tests: skipped (P2PLAB_SKIP_ASAN=1)"
if [ "$skip_asan" -eq 0 ]; then
  echo "== sanitizer build (ASan + UBSan); tests labelled 'slow', 'gui' (Mesa, GLFW), 'release' and 'grading' (they rebuild or re-run what the release build checked) are skipped =="
  asan=1 asan_verdict="sanitizer build: FAILED"
  if cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DP2PLAB_SANITIZE=ON -DP2PLAB_WERROR=ON -DP2PLAB_GRADING=OFF -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" >/dev/null &&
    cmake --build build-asan -j"$jobs"; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE "slow|gui|release|grading" "$@" 2>&1 | tee build-asan/ctest.log
    asan=${PIPESTATUS[0]}
    if [ "$asan" -eq 0 ]; then asan_verdict="sanitizer tests: passed"; else asan_verdict="sanitizer tests: FAILED"; fi
  fi
fi

echo
echo "$release_verdict"
echo "$asan_verdict"
# One closing line over both runs, from ctest's own counts ("N tests failed out of M").
count() {  # count LOG -> "passed failed"; a run without a count (build failed) counts as 1 failure
  [ -f "$1" ] || { echo "0 1"; return; }
  local line total failed
  line=$(grep -E 'tests failed out of [0-9]+' "$1" | tail -n 1)
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  failed=$(sed -E 's/.*, ([0-9]+) tests failed.*/\1/' <<<"$line")
  [ -n "$total" ] || { echo "0 1"; return; }
  echo "$((total - failed)) $failed"
}
read -r passed failed < <(count build/ctest.log)
if [ "$skip_asan" -eq 0 ]; then
  read -r p2 f2 < <(count build-asan/ctest.log)
  passed=$((passed + p2))
  failed=$((failed + f2))
fi
echo "tests: $passed passed, $failed failed"
[ "$release" -eq 0 ] && [ "$asan" -eq 0 ]
