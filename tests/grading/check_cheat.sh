#!/usr/bin/env bash
# CI check of a dishonest submission (tests/grading/cheats/<exercise>--<what>/) beyond its score:
# runs the grader with ARGS writing RESULTS, then
#   - if WAIT > 0: keeps a copy, waits WAIT seconds (longer than the cheat's daemon waits before
#     it writes) and fails if results.json changed after the grader wrote it;
#   - if FORBIDDEN is a file: fails if results.json holds any of its lines (text the cheat tries
#     to leak into the report).
#   tests/grading/check_cheat.sh RESULTS WAIT FORBIDDEN GRADER ARGS...
set -uo pipefail
results="${1:?results.json path}" wait="${2:?seconds}" forbidden="${3:?file of forbidden lines, or -}" grader="${4:?grader}"
shift 4
mkdir -p "$(dirname "$results")" && rm -f "$results"
echo '{"score": 0, "written": "before the grader"}' >"$results"  # a daemon aims only at a file that exists
"$grader" "$@" --results "$results"
status=$?
if [ "$wait" != 0 ]; then
  cp "$results" "$results.written" || exit 1
  sleep "$wait"
  if ! cmp -s "$results" "$results.written"; then
    echo "FAILED: results.json changed after the grader wrote it: $(head -c 300 "$results")" >&2
    exit 1
  fi
  echo "results.json unchanged $wait s after the grader wrote it"
fi
if [ -f "$forbidden" ]; then
  while IFS= read -r text; do
    [ -n "$text" ] || continue
    if grep -qF -- "$text" "$results"; then
      echo "FAILED: results.json shows '$text'" >&2
      exit 1
    fi
  done <"$forbidden"
  echo "results.json shows none of the $(grep -c . "$forbidden") forbidden texts"
fi
exit $status
