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

# Opt in: an unexpected command failure (set -e) counts as a failure, and
# the temp dir is kept for inspection.
fail_on_unexpected_errors() {
  trap 'FAIL=$((FAIL + 1)); echo "FAIL - unexpected failure of a command at line $LINENO"' ERR
}

# same_list GOT WANT: comma lists equal; else say where they first differ.
same_list() {
  [ "$1" = "$2" ] && return 0
  /usr/bin/python3 - "$1" "$2" <<'PY' >&2
import sys
a, b = sys.argv[1].split(","), sys.argv[2].split(",")
i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
print("     %d items, expected %d; first difference at position %d: got %s, expected %s"
      % (len(a), len(b), i + 1, ",".join(a[i:i + 5]) or "(end)", ",".join(b[i:i + 5]) or "(end)"))
PY
  return 1
}
