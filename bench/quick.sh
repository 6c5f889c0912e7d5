#!/bin/sh
# quick.sh — end-to-end throughput of `mtcr-rules check` on 1M synthetic transfers
# (CSV in, JSON Lines findings out, one core), with two rule sets side by side in the
# same run: the Guidelines module (mtcr.guidelines with what it imports) and the
# whole built-in standard library; and two baselines in the same run: `wc -l` (reading
# the file, the floor) and a one-rule awk filter (`payload >= 500 && range >= 300`,
# printing the ids: no quoting, no validation, no units).  Runs alternate so that
# machine noise hits all of them; the figures are medians, and ratios to the baselines.
# Usage: sh bench/quick.sh [path/to/mtcr-rules] [ROWS] [RUNS]
# The data is generated once under bench/data/ (bench/gen.c, fixed seed).
set -eu
BIN=${1:-build/mtcr-rules}
ROWS=${2:-1000000}
RUNS=${3:-5}
cd "$(dirname "$0")/.."
mkdir -p bench/data build/bench
[ build/bench/gen -nt bench/gen.c ] || ${CC:-gcc} -O2 -o build/bench/gen bench/gen.c
DATA=bench/data/transfers-$ROWS.csv
[ -s "$DATA" ] || build/bench/gen "$ROWS" > "$DATA"
echo "input: $DATA ($(wc -c < "$DATA") bytes, $ROWS records)"

# run NAME ARGS...: one timed run; appends the seconds to build/bench/NAME.times
run() {
  name=$1
  shift
  start=$(date +%s.%N)
  set +e
  "$BIN" check --format jsonl "$@" "$DATA" > build/bench/$name.jsonl 2> build/bench/$name.err
  st=$?
  set -e
  end=$(date +%s.%N)
  if [ $st -ne 0 ] && [ $st -ne 1 ] && [ $st -ne 3 ]; then
    echo "check failed with status $st:"; cat build/bench/$name.err; exit 1
  fi
  awk "BEGIN {print $end - $start}" >> build/bench/$name.times
}

# baseline NAME COMMAND...: one timed run of a baseline over the data
baseline() {
  name=$1
  shift
  start=$(date +%s.%N)
  "$@" < "$DATA" > build/bench/$name.out
  end=$(date +%s.%N)
  awk "BEGIN {print $end - $start}" >> build/bench/$name.times
}

rm -f build/bench/*.times
i=0
while [ $i -lt "$RUNS" ]; do
  run guidelines -r stdlib/mtcr/guidelines.mtcr -I stdlib
  run stdlib
  baseline awk awk -F, 'NR > 1 && $11 + 0 >= 500 && $12 + 0 >= 300 { print $1 }'
  baseline wc wc -l
  i=$((i+1))
done
median() { sort -n build/bench/$1.times | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for name in guidelines stdlib awk wc; do
  med=$(median $name)
  echo "$name: runs $(tr '\n' ' ' < build/bench/$name.times)s; median $med s = $(awk "BEGIN {printf \"%d\", $ROWS / $med}") records/s"
done
echo "printed: guidelines $(wc -l < build/bench/guidelines.jsonl) records, stdlib $(wc -l < build/bench/stdlib.jsonl) records"
g=$(median guidelines); a=$(median awk); w=$(median wc); s=$(median stdlib)
echo "ratios (median time / median time): guidelines/awk $(awk "BEGIN {printf \"%.2f\", $g / $a}"), stdlib/awk $(awk "BEGIN {printf \"%.2f\", $s / $a}"), guidelines/wc $(awk "BEGIN {printf \"%.2f\", $g / $w}")"
echo "stdlib summary:"
cat build/bench/stdlib.err
