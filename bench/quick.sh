#!/bin/sh
# quick.sh — end-to-end throughput of `mtcr-rules check` on 1M synthetic transfers
# (CSV in, JSON Lines findings out, the built-in standard library, one core).
# Usage: sh bench/quick.sh [path/to/mtcr-rules] [ROWS] [RUNS]
# Prints each run and the median records/s; the data is generated once under bench/data/.
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
times=""
i=0
while [ $i -lt "$RUNS" ]; do
  start=$(date +%s.%N)
  set +e
  "$BIN" check --format jsonl "$DATA" > build/bench/out.jsonl 2> build/bench/err.txt
  st=$?
  set -e
  end=$(date +%s.%N)
  if [ $st -ne 0 ] && [ $st -ne 1 ] && [ $st -ne 3 ]; then
    echo "check failed with status $st:"; cat build/bench/err.txt; exit 1
  fi
  t=$(awk "BEGIN {print $end - $start}")
  echo "run $((i+1)): $t s, $(awk "BEGIN {printf \"%d\", $ROWS / $t}") records/s, $(wc -l < build/bench/out.jsonl) records printed"
  times="$times $t"
  i=$((i+1))
done
med=$(for t in $times; do echo "$t"; done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "median: $med s = $(awk "BEGIN {printf \"%d\", $ROWS / $med}") records/s"
tail -3 build/bench/err.txt
