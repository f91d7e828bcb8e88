#!/usr/bin/env bash
# CI check of tools/make-autograder: the zip has setup.sh and run_autograder at its root (where
# Gradescope looks), both executable, and source/ holds the whole tree including the reference
# solutions and hidden tests that the student release leaves out. setup.sh seals the tree after
# building and run_autograder runs the tests as the unprivileged user; sealing the unpacked tree
# (tools/seal-grading-sources) leaves no reference code, hidden test, mutant or cheat readable and
# keeps each file's time (the build must find its objects up to date).
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
grep -q 'tools/seal-grading-sources' "$work/unpacked/setup.sh" || fail "setup.sh does not seal the tree after building"
grep -q -- '--run-as p2plab-student' "$work/unpacked/run_autograder" || fail "run_autograder does not run the tests as p2plab-student"
source="$work/unpacked/source"
hidden_file=$(find "$source/tests/grading/hidden" -name '*.cpp' | head -n 1)
reference_file=$(grep -rl --include='*.cpp' -e "^$marker" "$source/protocols" | head -n 1)
time_before=$(stat -c %Y "$reference_file")
hidden_text=$(grep -m1 '^GRADED_TEST' "$hidden_file")
chmod +x "$source/tools/seal-grading-sources"
"$source/tools/seal-grading-sources" "$source" >"$work/seal.log" 2>&1 || { cat "$work/seal.log"; fail "sealing failed"; }
[ "$(stat -c %Y "$reference_file")" = "$time_before" ] || fail "sealing changed the time of $reference_file"
if grep -rqF -- "$hidden_text" "$source"; then fail "a hidden test is still readable after sealing: $hidden_text"; fi
leaks=$(grep -rlE --include='*.cpp' '^(GRADED_TEST|namespace p2plab)' "$source/tests/grading/hidden" "$source/tests/grading/mutants" "$source/tests/grading/cheats" || true)
[ -z "$leaks" ] || fail "still readable after sealing: $leaks"
for f in $(grep -rl --include='*.cpp' -e "^$marker" "$source"); do
  [ "$(wc -l <"$f")" -eq 1 ] || fail "$f: reference code still readable after sealing"
done
echo "autograder zip: setup.sh and run_autograder at the root, $count reference files and the hidden tests inside; sealing leaves none readable"
