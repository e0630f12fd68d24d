#!/usr/bin/env bash
# A corrupt or locked database gives a clear error and a non-zero exit;
# nothing is acted on.
. "$(dirname "$0")/common.sh"
setup_network "$T" "$PORT" op:operator coord:coordinator
cp "$T/op/ledger.db" "$T/op-ledger.good"
head -c 8192 /dev/urandom > "$T/op/ledger.db"
check "a daemon refuses a corrupt database, saying so" \
  sh -c "! '$NODE' --home '$T/op' run >/dev/null 2>'$T/err' && grep -qi 'not a database' '$T/err'"
check "a reading command too" sh -c "! '$NODE' --home '$T/op' incidents >/dev/null 2>'$T/err' && grep -qi 'not a database' '$T/err'"
check "ledger verify too" sh -c "! '$NODE' --home '$T/op' ledger verify >/dev/null 2>&1"
cp "$T/op-ledger.good" "$T/op/ledger.db"
rm -f "$T/op/ledger.db-wal" "$T/op/ledger.db-shm"
# another process holds the broker's database locked while a message comes
start_broker "$T"
for n in op coord; do start_node "$T" $n; done
for n in op coord; do wait_for 15 node_connected "$T" $n; done
/usr/bin/python3 - "$T/broker/ledger.db" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute("BEGIN EXCLUSIVE"); time.sleep(7)
PY
locker=$!
sleep 0.5
"$NODE" --home "$T/op" message --kind note --text "trong khi cơ sở dữ liệu bị khóa" --to kontum/coord >/dev/null
check "the broker reports the locked database clearly" wait_for 12 grep -qi 'busy' "$T/broker.log"
check "... stays up" kill -0 "${PIDS[0]}"
check "... and acknowledges nothing it could not store" \
  eq "$(sql "$T/op/ledger.db" "select count(*) from outbox where state='pending'")" 1
wait $locker 2>/dev/null || true
check "once the lock is gone the message is delivered" \
  wait_for 20 sh -c "[ \$(sqlite3 '$T/coord/ledger.db' \"select count(*) from ledger where type=2 and sender='kontum/op'\") = 1 ]"
check "... exactly once" eq "$(sql "$T/broker/ledger.db" "select count(*) from ledger where type=2")" 1
finish
