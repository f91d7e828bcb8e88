#!/usr/bin/env bash
# The test command (CI runs exactly this through .ci/run): installs what is missing, builds the
# whole tree once, in build-test/, with AddressSanitizer and UndefinedBehaviorSanitizer (-Og,
# warnings are errors), and runs every test there: the windowed ones, the graded ones, the student
# release and the fuzzer included. One sanitized build instead of an optimized one plus a
# sanitized one keeps the suite within 10 minutes on 2 cores; the optimized build is ./run.sh's
# (build/), and `p2plab bench` measures that one.
#   ./test.sh [ctest arguments]        e.g. ./test.sh -R chord   or   ./test.sh -L gui
# Exit status non-zero when the build or any test failed; the last line counts the tests.
set -uo pipefail
cd "$(dirname "$0")" || exit 1

tools/install-deps.sh || exit 1
build=build-test
jobs=2
# Tests three at a time on the two cores: many of them spend most of their time waiting on
# sockets, child processes or Xvfb (their time limits hold on a loaded machine). (Three build
# jobs were slower than two.)
test_jobs=3
# A log of an earlier run must not be counted as this run's.
rm -f "$build/ctest.log"

# ccache: the student-release check builds a second tree with this build's flags, and compiles
# only the files that differ (the stubs); paths are relative to the repository, so the two trees
# share cache entries. The cache lives in the build folder: nothing outside it is touched.
# (Not depend mode: with it, every file of the second tree missed the cache.)
export CCACHE_DIR="$PWD/$build/ccache" CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=4G \
  CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
# Sanitizers stop at the first error, and leaks are errors (the windowed program's tests turn leak
# detection off: see visualizer/CMakeLists.txt).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

generator=()
if [ ! -f "$build/CMakeCache.txt" ] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer, -Og) in $build/ =="
status=1
if cmake -S . -B "$build" "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-Og -g1" -DP2PLAB_SANITIZE=ON -DP2PLAB_WERROR=ON -DP2PLAB_PCH=ON >/dev/null &&
  cmake --build "$build" -j"$jobs"; then
  echo "== tests =="
  ctest --test-dir "$build" --output-on-failure -j"$test_jobs" "$@" 2>&1 | tee "$build/ctest.log"
  status=${PIPESTATUS[0]}
else
  echo "test.sh: the build failed" >&2
fi

# One closing line, from ctest's own count ("N tests failed out of M"); a build that failed, or
# a run that printed no count, counts as one failure.
line=$(grep -E 'tests failed out of [0-9]+' "$build/ctest.log" 2>/dev/null | tail -n 1)
total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
failed=$(sed -E 's/.*, ([0-9]+) tests failed.*/\1/' <<<"$line")
if [ -z "$total" ]; then
  total=1 failed=1
  status=1
fi
echo "tests: $((total - failed)) passed, $failed failed"
exit "$status"
