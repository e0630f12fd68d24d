#!/usr/bin/env bash
# bench/run.sh - build irnet in Release and run the issue 7 benchmark.
#
#   bench/run.sh            the full run (about 3 minutes on 2 cores)
#   bench/run.sh --quick    small sizes, under a minute
#   bench/run.sh --profile  the full run with `perf record` on each broker phase
#                           (needs linux-perf); profiles stay in the work dir
#   any other arguments go to irnet-bench (see: build-bench/bench/irnet-bench --help)
#
# The table goes to stdout, progress to stderr. Everything runs on 127.0.0.1;
# the broker processes the bench starts are stopped at the end. The NATS
# JetStream peer baseline runs when libnats-dev and nats-server are installed
# (apt-get install nats-server libnats-dev); otherwise the table says so.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${IRNET_BENCH_BUILD:-$ROOT/build-bench}

args=()
profile=0
for a in "$@"; do
  case "$a" in
    --profile) profile=1 ;;
    *) args+=("$a") ;;
  esac
done

echo "run.sh: building Release in $B" >&2
cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release -DIRNET_WERROR=OFF >/dev/null
targets=(irnet-broker irnet-node irnet-bench)
if pkg-config --exists libnats 2>/dev/null; then targets+=(irnet-bench-nats); fi
cmake --build "$B" -j"$(nproc)" --target "${targets[@]}" >/dev/null

nats=()
if [ -x "$B/bench/irnet-bench-nats" ] && command -v nats-server >/dev/null 2>&1; then
  nats=(--nats "$B/bench/irnet-bench-nats")
else
  echo "run.sh: NATS peer baseline skipped (needs libnats-dev and nats-server)" >&2
fi

if [ $profile -eq 1 ]; then
  command -v perf >/dev/null || { echo "run.sh: --profile needs perf (linux-perf)" >&2; exit 1; }
  W=$(mktemp -d /var/tmp/irnet-bench-prof.XXXXXX)
  echo "run.sh: profiles in $W/perf (perf report -i FILE --sort pid,sym)" >&2
  mkdir -p "$W/perf"
  args+=(--dir "$W/work" --perf "$W/perf" --keep)
fi

rev=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
exec "$B/bench/irnet-bench" --broker "$B/irnet-broker" --label "(source $rev, Release)" \
  "${nats[@]}" "${args[@]}"
