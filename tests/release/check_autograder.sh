#!/usr/bin/env bash
# CI check of tools/make-autograder: the zip has setup.sh and run_autograder at its root (where
# Gradescope looks), both executable, and source/ holds the whole tree including the reference
# solutions and hidden tests that the student release leaves out.
#   tests/release/check_autograder.sh SOURCE_TREE WORK_DIR
set -uo pipefail
src="${1:?source tree}" work="${2:?work folder}"
fail() { echo "autograder check FAILED: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work/unpacked"
"$src/tools/make-autograder" "$work/autograder.zip" || fail "make-autograder failed"
(cd "$work/unpacked" && cmake -E tar xf ../autograder.zip) || fail "the zip does not unpack"
for f in setup.sh run_autograder; do
  [ -x "$work/unpacked/$f" ] || fail "$f is missing or not executable at the zip's root"
done
[ -x "$work/unpacked/source/tools/grade" ] || fail "source/tools/grade missing"
marker="// p2plab: reference-only"
count=$(grep -rl --include='*.cpp' -e "^$marker" "$work/unpacked/source/protocols" | wc -l)
[ "$count" -gt 0 ] || fail "the reference solutions are not in the autograder"
if [ -d "$src/tests/grading/hidden" ]; then
  [ -d "$work/unpacked/source/tests/grading/hidden" ] || fail "the hidden tests are not in the autograder"
fi
grep -q '/autograder/results\|results="\$root/results"' "$work/unpacked/run_autograder" || fail "run_autograder does not write /autograder/results"
echo "autograder zip: setup.sh and run_autograder at the root, $count reference files and the hidden tests inside"
