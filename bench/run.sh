#!/usr/bin/env bash
# Runs the peer benchmarks, saves the raw output to results/latest.txt and
# prints a benchstat table (engines as columns, "vs base" = vs handwritten)
# and tables of time ratios to handwritten, of the medians and of the
# minimums (cmd/ratios).
#
#   ./run.sh                    # COUNT=6 rounds of every benchmark, 1s each
#   COUNT=10 BENCH='Owner' ./run.sh
#   COUNT=20 BENCHTIME=250ms ./run.sh   # more, shorter rounds on a busy machine
#   OUT=/tmp/new.txt ./run.sh   # keep results/latest.txt as it is
#
# The test binary is built once and run COUNT times with -test.count=1, so
# the rounds interleave the engines in time: on a shared machine a burst of
# load then spreads over every engine instead of hitting the runs of one.
# The output is the same as `go test -run '^$' -bench . -benchmem -count 6`.
set -euo pipefail
cd "$(dirname "$0")"

COUNT="${COUNT:-6}"
BENCH="${BENCH:-.}"
BENCHTIME="${BENCHTIME:-1s}"
OUT="${OUT:-results/latest.txt}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

go test -c -o "$tmp/bench.test" .
mkdir -p "$(dirname "$OUT")"
{
  echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(go version | cut -d' ' -f3-) nproc $(nproc) loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
  # rulegate is built from the working tree (replace => ../): say which.
  echo "# rulegate $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git status --porcelain -- .. 2>/dev/null | grep -qv '^?? bench/' && echo ' plus uncommitted changes')"
  for i in $(seq "$COUNT"); do
    echo "# round $i of $COUNT, loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    "$tmp/bench.test" -test.run '^$' -test.bench "$BENCH" -test.benchmem \
      -test.count 1 -test.benchtime "$BENCHTIME"
  done
  echo "# end $(date -u +%Y-%m-%dT%H:%MZ) loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$tmp/out.txt"
mv "$tmp/out.txt" "$OUT"
echo "saved $OUT"

# benchstat compares columns by a named sub-benchmark key: rename
# BenchmarkOwner/cel to BenchmarkOwner/engine=cel in a copy, and leave out
# the benchmarks that have no engine (DocToMap).
sed -E 's#^(Benchmark[A-Za-z]+)/([A-Za-z]+)#\1/engine=\2#' "$OUT" \
  | grep -v '^BenchmarkDocToMap' > "$tmp/keyed.txt"
echo
go tool benchstat -col /engine -row .name "$tmp/keyed.txt"
echo
grep '^BenchmarkDocToMap' "$OUT" | head -1 || true
echo
go run ./cmd/ratios "$OUT"
echo
go run ./cmd/ratios -stat min "$OUT"
