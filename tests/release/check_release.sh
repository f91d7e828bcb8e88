#!/usr/bin/env bash
# CI check of the student release: tools/make-student-release writes a tree, which is then built
# from scratch as a student would (warnings as errors: the stubs must compile cleanly). In it,
# every exercise of the course's tree has its stub, graded-test program and compiled reference,
# the engine's tests pass, every public graded test compiles and fails on the untouched stubs,
# and the grader refuses to grade a reference that is not there.
# With --course-build DIR (the course tree's build, grading programs built), it also checks that
# the release's compiled reference makes a local grade equal the grader's: a broken chord-routing
# (tests/grading/mutants/chord-routing--finger-wrong-side) and the reference's chord-routing, put
# in the release over the stub, get the same public score there as in the course tree, and not
# zero (the routing tests run on the reference chord-intervals, not on the student's stub).
#   tests/release/check_release.sh SOURCE_TREE WORK_DIR [--course-build DIR] [CMAKE_ARGUMENTS...]
# The tree is written to WORK_DIR/tree and built with CMAKE_ARGUMENTS (default: Release at -O0).
# The suite passes its own build's arguments, compiler launcher (ccache) included: then every file
# the student tree shares with the course tree is a cache hit, and only the stubs, the generated
# files and the links cost time. The check proves the same either way: the student tree's CMake,
# its files and its stubs build, with warnings as errors, and its tests behave.
set -uo pipefail
src="${1:?source tree}" work="${2:?work folder}"
shift 2
course_build=""
if [ "${1:-}" = --course-build ]; then
  course_build="${2:?--course-build needs a folder}"
  shift 2
fi
cmake_args=("$@")
# The compiled reference of the release is built with the same compiler launcher (ccache).
for arg in "${cmake_args[@]}"; do
  case "$arg" in -DCMAKE_CXX_COMPILER_LAUNCHER=*) export CMAKE_CXX_COMPILER_LAUNCHER="${arg#*=}" ;; esac
done
if [ ${#cmake_args[@]} -eq 0 ]; then
  # -O0: what the check proves does not need the optimizer, whose warnings the course tree's own
  # optimized build checks on the same files.
  cmake_args=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O0 -DNDEBUG")
fi
logs="$work"
rm -rf "$work" && mkdir -p "$work"
"$src/tools/make-student-release" "$work/tree" || exit 1
tree="$work/tree"
fail() { echo "student release check FAILED: $*" >&2; exit 1; }
compiled=$(find "$tree/prebuilt/reference" -name '*.o' 2>/dev/null | wc -l)
[ "$compiled" -gt 0 ] || fail "the release has no compiled reference (prebuilt/reference/*/*.o)"

cmake -S "$tree" -B "$tree/build" "${cmake_args[@]}" -DP2PLAB_WERROR=ON -DP2PLAB_VISUALIZER=OFF >"$logs/configure.log" 2>&1 ||
  { tail -n 20 "$logs/configure.log"; fail "the student tree does not configure"; }
# What this check runs, and only that: the programs a student uses (p2plab, p2plab-grade), the
# engine tests, and every exercise's graded-test program. The tree's other test programs are the
# course tree's sources compiled the same way, with warnings as errors, by its own build.
targets=(p2plab p2plab-grade test_engine)
while read -r target; do targets+=("$target"); done < <(cmake --build "$tree/build" --target help | sed -nE 's/^(\.\.\. )?(grade_[a-z0-9_]+)([: ].*)?$/\2/p')
[ ${#targets[@]} -gt 3 ] || fail "the student tree has no graded-test programs (grade_*)"
# Every exercise of the course's tree is in the release: its stub, its graded-test program and
# its compiled reference.
for dir in "$src"/exercises/*/; do
  name="$(basename "$dir")" id="$(basename "$dir" | tr - _)"
  [ -d "$tree/exercises/$name" ] || fail "exercise $name is missing from the student tree"
  # A match in bash, not `printf | grep -q`: under pipefail, grep leaving at its first match can
  # end printf with SIGPIPE and fail the pipeline (it did once in CI, on grade_ipfs_cid).
  [[ " ${targets[*]} " == *" grade_$id "* ]] || fail "exercise $name has no graded-test program (grade_$id)"
  compgen -G "$tree/prebuilt/reference/$id/*.o" >/dev/null || fail "exercise $name has no compiled reference"
done
cmake --build "$tree/build" -j2 --target "${targets[@]}" >"$logs/build.log" 2>&1 ||
  { tail -n 40 "$logs/build.log"; fail "the student tree does not build"; }
[ -x "$tree/build/bin/p2plab" ] || fail "no p2plab program in the student build"

# The engine's tests but its thread-timing ones (the parallel simulator's and the window
# barrier's: about half of this run's time), which the course tree's run covers on the same sources.
ctest --test-dir "$tree/build" -R '^test_engine' -E '^test_engine:(parallel simulator|window barrier)' -j2 \
  >"$logs/engine.log" 2>&1 || { tail -n 30 "$logs/engine.log"; fail "engine tests fail in the student tree"; }
grep -qE '100% tests passed, 0 tests failed out of [0-9]+' "$logs/engine.log" || { tail -n 30 "$logs/engine.log"; fail "no engine test ran in the student tree"; }

ctest --test-dir "$tree/build" -L graded -j2 >"$logs/graded.log" 2>&1
line=$(grep -E 'tests failed out of [0-9]+' "$logs/graded.log" | tail -n 1)
total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
failed=$(sed -E 's/.*, ([0-9]+) tests failed.*/\1/' <<<"$line")
[ -n "$total" ] && [ "$total" -gt 0 ] || { cat "$logs/graded.log"; fail "no public graded test ran"; }
[ "$failed" = "$total" ] || { grep -E "Passed" "$logs/graded.log"; fail "$((total - failed)) of $total public graded tests pass on the untouched stubs"; }

# Every lab runs on the untouched stubs without crashing or hanging (the protocols check what
# student code returns), and says whose code it ran.
# The time limit only catches a hang: generous, so that a loaded machine does not fail it.
for lab in "$tree"/labs/*.json; do
  timeout 600 "$tree/build/bin/p2plab" run "$lab" --brief --out "$work/lab.json" >"$logs/lab.log" 2>&1
  status=$?
  [ $status -eq 0 ] || { tail -n 20 "$logs/lab.log"; fail "p2plab run $(basename "$lab") on the stubs: exit $status"; }
  grep -q "^code: your code" "$logs/lab.log" || fail "p2plab run $(basename "$lab") does not say it ran the student's code"
done

if "$tree/build/bin/p2plab-grade" --manifest "$tree/build/grading.json" --variant reference --quiet >/dev/null 2>&1; then
  fail "the grader found reference solutions in the student tree"
fi
same_score=""
if [ -n "$course_build" ]; then
  total() { grep -E '^  total ' | awk '{print $2}'; }
  course_grade=("$course_build/bin/p2plab-grade" --manifest "$course_build/grading.json" --public-only --quiet)
  # Two chord-routing files over the stub (chord-intervals stays a stub): a broken one (partial
  # points) and the reference's own file (full points), each scored as the course tree scores it.
  for case in "mutant:$src/tests/grading/mutants/chord-routing--finger-wrong-side/routing.cpp" \
              "reference:$src/protocols/chord/logic_routing.cpp"; do
    kind="${case%%:*}" file="${case#*:}"
    if [ "$kind" = mutant ]; then
      course=$("${course_grade[@]}" --mutant chord-routing--finger-wrong-side | total)
    else
      course=$("${course_grade[@]}" --variant reference --exercise chord-routing | total)
    fi
    cp "$file" "$tree/exercises/chord-routing/routing.cpp"
    cmake --build "$tree/build" -j2 --target grade_chord_routing >"$logs/$kind-build.log" 2>&1 ||
      { tail -n 30 "$logs/$kind-build.log"; fail "the $kind chord-routing does not build in the student tree"; }
    local_score=$("$tree/build/bin/p2plab-grade" --manifest "$tree/build/grading.json" --exercise chord-routing --public-only --quiet | total)
    [ -n "$course" ] && [ "$course" = "$local_score" ] ||
      fail "the $kind chord-routing scores $local_score in the student tree but $course in the course tree"
    case "$local_score" in 0/*) fail "the $kind chord-routing scores $local_score in the student tree: its tests did not run on the reference chord-intervals" ;; esac
    same_score="$same_score; the $kind chord-routing scores $local_score in both trees"
  done
fi
echo "student release: builds from scratch; engine tests pass; all $total public graded tests compile and fail on the stubs; every lab runs on the stubs$same_score"
