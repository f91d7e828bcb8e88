#!/usr/bin/env bash
# The test command (CI runs exactly this through .ci/run): installs what is missing, then builds
# and runs the whole suite twice, as a Release build and under AddressSanitizer +
# UndefinedBehaviorSanitizer. P2PLAB_SKIP_ASAN=1 skips the second build.
set -uo pipefail
cd "$(dirname "$0")"

tools/install-deps.sh || exit 1
jobs=2

echo "== release build =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DP2PLAB_WERROR=ON >/dev/null &&
  cmake --build build -j"$jobs" || { echo "release build: FAILED"; exit 1; }
ctest --test-dir build --output-on-failure -j"$jobs" 2>&1 | tee build/ctest.log
release=${PIPESTATUS[0]}

asan=0
if [ "${P2PLAB_SKIP_ASAN:-0}" != "1" ]; then
  echo "== sanitizer build (ASan + UBSan); tests labelled 'slow' or 'gui' (Mesa, GLFW) are skipped =="
  if cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DP2PLAB_SANITIZE=ON -DP2PLAB_WERROR=ON >/dev/null &&
    cmake --build build-asan -j"$jobs"; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE "slow|gui" 2>&1 | tee build-asan/ctest.log
    asan=${PIPESTATUS[0]}
  else
    echo "sanitizer build: FAILED"
    asan=1
  fi
fi

echo
[ $release -eq 0 ] && echo "release tests: passed" || echo "release tests: FAILED"
if [ "${P2PLAB_SKIP_ASAN:-0}" = "1" ]; then
  echo "sanitizer tests: skipped (P2PLAB_SKIP_ASAN=1)"
else
  [ $asan -eq 0 ] && echo "sanitizer tests: passed" || echo "sanitizer tests: FAILED"
fi
# One closing line over both runs, from ctest's own counts ("N tests failed out of M").
count() {  # count LOG -> "passed failed"
  [ -f "$1" ] || { echo "0 1"; return; }
  local line total failed
  line=$(grep -E 'tests failed out of [0-9]+' "$1" | tail -n 1)
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  failed=$(sed -E 's/.*, ([0-9]+) tests failed.*/\1/' <<<"$line")
  [ -n "$total" ] || { echo "0 1"; return; }
  echo "$((total - failed)) $failed"
}
read -r passed failed < <(count build/ctest.log)
if [ "${P2PLAB_SKIP_ASAN:-0}" != "1" ]; then
  read -r p2 f2 < <(count build-asan/ctest.log)
  passed=$((passed + p2))
  failed=$((failed + f2))
fi
echo "tests: $passed passed, $failed failed"
[ $release -eq 0 ] && [ $asan -eq 0 ]
