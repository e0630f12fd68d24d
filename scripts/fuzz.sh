#!/bin/sh
# Build the libFuzzer targets (clang, ASan + UBSan, leak detection) in
# build-fuzz and run each for SECONDS seconds (default 10) on a scratch copy
# of its seed corpus fuzz/corpus/<target>/ (the committed corpus is never
# written), plus the saved reproducers in fuzz/regressions/<target>/.
#
#   ./scripts/fuzz.sh [SECONDS]      e.g. ./scripts/fuzz.sh 600 for the long run
#
# Installs nothing: run ./scripts/install-deps.sh first (clang, libclang-rt-14-dev).
# Prints one line per target; exits 1 if any target found a crash, a leak, a
# sanitizer report, a broken invariant, a timeout or an out-of-memory. The
# reproducer and the full log stay in build-fuzz/fuzz-out/.
# Set FUZZ_TARGETS="envelope packet" to run only some targets.
set -eu
cd "$(dirname "$0")/.."
SECS=${1:-10}
case $SECS in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
[ "$SECS" -gt 0 ] || { echo "usage: $0 [SECONDS] (SECONDS > 0)" >&2; exit 2; }
command -v clang >/dev/null 2>&1 || {
  echo "fuzz.sh: clang not found; run ./scripts/install-deps.sh" >&2; exit 2; }

ALL="envelope body report report_json roster roster_delta packet text config forms receipt payload"
TARGETS=${FUZZ_TARGETS:-$ALL}
J=$(nproc 2>/dev/null || echo 2)
START=$(date +%s)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/irnet-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# A build-fuzz configured with another compiler keeps it: remove the directory.
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DIRNET_FUZZ=ON -DIRNET_SANITIZE=ON >"$WORK/configure.log" 2>&1 || {
  cat "$WORK/configure.log" >&2; exit 2; }
cmake --build build-fuzz -j "$J" --target irnet_fuzzers >"$WORK/build.log" 2>&1 || {
  cat "$WORK/build.log" >&2; exit 2; }

OUT=$PWD/build-fuzz/fuzz-out
mkdir -p "$OUT"

export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

failed=0
printf '%-12s %12s %9s  %s\n' target runs exec/s result
for t in $TARGETS; do
  bin=build-fuzz/fuzz/fuzz_$t
  [ -x "$bin" ] || { echo "fuzz.sh: no target $t" >&2; exit 2; }
  mkdir -p "$WORK/$t"
  cp -R "fuzz/corpus/$t/." "$WORK/$t/"
  dirs="$WORK/$t"
  [ -d "fuzz/regressions/$t" ] && dirs="$dirs fuzz/regressions/$t"
  log=$OUT/$t.log
  rm -f "$OUT/$t"-crash-* "$OUT/$t"-leak-* "$OUT/$t"-timeout-* "$OUT/$t"-oom-*
  rc=0
  # -close_fd_mask=2: the target's own stderr (irn_log) is discarded; the
  # fuzzer's and the sanitizers' reports still reach the log.
  # shellcheck disable=SC2086
  "$bin" -max_total_time="$SECS" -max_len=300000 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -close_fd_mask=2 -artifact_prefix="$OUT/$t-" \
    $dirs >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  [ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    failed=1
    if grep -q 'ERROR: LeakSanitizer' "$log"; then result=LEAK
    elif grep -q 'ERROR: libFuzzer: timeout' "$log"; then result=TIMEOUT
    elif grep -q 'out-of-memory' "$log"; then result=OOM
    elif grep -q 'runtime error:' "$log"; then result=UNDEFINED-BEHAVIOUR
    elif grep -q 'invariant failed' "$log"; then result=INVARIANT
    elif grep -q 'ERROR: AddressSanitizer' "$log"; then result=MEMORY-ERROR
    else result="CRASH (exit $rc)"; fi
    art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    result="$result: ${art:-see $log}"
  fi
  printf '%-12s %12s %9s  %s\n' "$t" "${runs:-?}" "${eps:-?}" "$result"
  if [ "$rc" -ne 0 ]; then
    grep -E 'ERROR:|SUMMARY:|runtime error:|invariant failed' "$log" | head -n 5 | sed 's/^/    /'
  fi
done
echo "fuzz.sh: $(( $(date +%s) - START ))s in all; logs in $OUT"
exit $failed
