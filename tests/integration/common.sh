# Test helpers on top of scripts/lib.sh. Every test makes its own network
# in a temp dir on a free 127.0.0.1 port, and stops what it started.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
PROBE="$BIN/tests/irnet-probe"
T=$(mktemp -d /tmp/irnet-test.XXXXXX)
PORT=$(free_port)
PASS=0; FAIL=0
trap 'cleanup_all; if [ $FAIL -eq 0 ]; then rm -rf "$T"; else echo "kept $T for inspection"; fi' EXIT

check() { # DESCRIPTION COMMAND...
  local d=$1; shift
  if "$@"; then echo "ok   - $d"; PASS=$((PASS+1)); else echo "FAIL - $d"; FAIL=$((FAIL+1)); fi
}
eq() { [ "$1" = "$2" ] || { echo "     expected '$2', got '$1'" >&2; return 1; }; }
sql() { /usr/bin/sqlite3 "$1" "$2"; }
finish() {
  cleanup_all   # daemons exit now, so sanitizer reports reach their logs
  if grep -l -E 'ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:' "$T"/*.log >/dev/null 2>&1; then
    echo "FAIL - a sanitizer reported errors:"; grep -l -E 'Sanitizer|runtime error:' "$T"/*.log
    FAIL=$((FAIL+1))
  else
    echo "ok   - no sanitizer reports in the daemons' logs"; PASS=$((PASS+1))
  fi
  echo "$PASS passed, $FAIL failed"
  [ $FAIL -eq 0 ]
}
