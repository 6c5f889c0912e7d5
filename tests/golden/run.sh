#!/bin/sh
# run.sh — golden cases.  Each directory tests/golden/NAME/ holds:
#   cmd          the mtcr-rules arguments, one line (run inside the directory)
#   stdout       the expected standard output (exactly)
#   stderr       optional: the expected standard error (exactly)
#   status       the expected exit status
# plus the rule files and inputs that cmd names.  Set UPDATE=1 to rewrite
# stdout/stderr/status from the current binary (then read the diff before committing).
# Usage: MTCR=build/mtcr-rules sh tests/golden/run.sh [NAME...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
MTCR=$(cd "$(dirname "${MTCR:-build/mtcr-rules}")" && pwd)/$(basename "${MTCR:-build/mtcr-rules}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
if [ $# -gt 0 ]; then cases="$*"; else cases=$(cd "$here" && ls -d */ | tr -d /); fi
for name in $cases; do
  dir=$here/$name
  [ -f "$dir/cmd" ] || continue
  args=$(cat "$dir/cmd")
  (cd "$dir" && eval "\"$MTCR\" $args" > "$tmp/out" 2> "$tmp/err" < /dev/null; echo $? > "$tmp/status")
  if [ "${UPDATE:-0}" = 1 ]; then
    cp "$tmp/out" "$dir/stdout"; cp "$tmp/status" "$dir/status"
    if [ -f "$dir/stderr" ] || [ -s "$tmp/err" ]; then cp "$tmp/err" "$dir/stderr"; fi
  fi
  ok=1
  cmp -s "$tmp/out" "$dir/stdout" || ok=0
  cmp -s "$tmp/status" "$dir/status" || ok=0
  if [ -f "$dir/stderr" ]; then cmp -s "$tmp/err" "$dir/stderr" || ok=0; fi
  if [ $ok = 1 ]; then
    pass=$((pass+1))
    echo "ok    golden/$name"
  else
    fail=$((fail+1))
    echo "FAIL  golden/$name  (mtcr-rules $args)"
    diff -u "$dir/stdout" "$tmp/out" | head -40
    [ -f "$dir/stderr" ] && diff -u "$dir/stderr" "$tmp/err" | head -40
    echo "    status: expected $(cat "$dir/status"), got $(cat "$tmp/status")"
  fi
done
echo "golden: $pass passed, $fail failed"
[ $fail = 0 ]
