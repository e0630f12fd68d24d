#!/usr/bin/env bash
# Live revocation and floods against a running broker.
. "$(dirname "$0")/common.sh"
setup_network "$T" "$PORT" op:operator coord:coordinator mallory:operator flooder:operator lat:operator
start_broker "$T"
for n in op coord mallory; do start_node "$T" $n; done
for n in op coord mallory; do wait_for 15 node_connected "$T" $n; done
probe() { "$PROBE" --home "$T/$1" "${@:2}" 2>>"$T/probe.log" || true; }
count_from() { sql "$T/$1/ledger.db" "select count(*) from ledger where type=2 and sender='kontum/$2'"; }

"$NODE" --home "$T/mallory" message --kind note --text "trước khi bị thu hồi" --to role:coordinator >/dev/null
check "a message sent before the revocation arrives" wait_for 15 sh -c "[ \$(sqlite3 '$T/coord/ledger.db' \"select count(*) from ledger where type=2 and sender='kontum/mallory'\") = 1 ]"

# The authority revokes mallory; the new roster goes into the running broker.
"$KEYS" roster-revoke --roster "$T/roster.json" --id kontum/mallory >/dev/null
"$KEYS" roster-sign --authority "$T/authority" --roster "$T/roster.json" --out "$T/roster-rev.bin" >/dev/null
t0=$(date +%s%N)
"$BROKER" --home "$T/broker" roster-import "$T/roster-rev.bin" >/dev/null
check "the revoked member's open connection is closed" wait_for 5 grep -q 'revokes this member' "$T/broker.log"
t1=$(date +%s%N)
echo "     closed $(( (t1 - t0) / 1000000 )) ms after the import"
check "... within a second of the import (measured from before the import command)" test $(( (t1 - t0) / 1000000 )) -lt 1000
check "connected nodes get the new roster pushed by the broker" \
  wait_for 10 sh -c "'$NODE' --home '$T/coord' --json status | grep -q '\"roster_version\": '\$(sqlite3 '$T/broker/ledger.db' 'select max(roster_version) from ledger where type=1')"
check "... as a delta from the version they held, smaller than the full roster" \
  grep -q 'roster [0-9]* pushed to [1-9][0-9]* live sessions as a delta' "$T/broker.log"
check "... which the node rebuilt and verified like a full roster" grep -q 'a delta of [0-9]* bytes pushed by the broker' "$T/coord.log"
check "its reconnect fails the handshake" wait_for 10 grep -q 'reason=revoked.*CURVE handshake refused' "$T/broker.log"
"$NODE" --home "$T/mallory" message --kind note --text "sau khi bị thu hồi" --to role:coordinator >/dev/null 2>&1 || true
sleep 2
check "nothing it sends after the revocation is accepted" eq "$(count_from broker mallory)" 1
check "the message from before the revocation stays valid at the coordinator" "$NODE" --home "$T/coord" ledger verify
check "... and at the broker" "$BROKER" --home "$T/broker" ledger verify

# Floods: one member sends as fast as it can; the others are not held up.
base=$(probe lat latency 100)
echo "     no flood:   $base"
probe flooder flood 20000 > "$T/flood-valid.out" &
fp=$!
sleep 0.3
during=$(probe lat latency 100)
wait $fp
echo "     flood:      $during; flooder: $(cat "$T/flood-valid.out")"
# p90 here: on a 2-core machine running other tests in parallel a single
# fsync stall sets the p99 of 100 samples; bench/ measures p99 properly.
p90() { echo "$1" | awk '{print $10}'; }
check "others' p90 during a flood stays within 10x the no-flood p90 (+5 ms floor)" \
  awk -v a="$(p90 "$base")" -v b="$(p90 "$during")" 'BEGIN { exit !(b <= 10 * a + 5) }'
check "the flooder was rate-limited" sh -c "awk '{exit !(\$4 < 20000)}' '$T/flood-valid.out'"
check "the flood was reported" grep -q 'reason=flood' "$T/broker.log"
probe flooder flood 5000 bad > "$T/flood-bad.out"
check "a flood of forged signatures stores nothing" eq "$(count_from broker flooder)" "$(awk '{print $4}' "$T/flood-valid.out")"
check "honest traffic still flows" sh -c "'$NODE' --home '$T/op' --json report --system 'Cổng thông tin' --security-level 2 --category attack.dos --summary 'Lưu lượng bất thường' --organisation 'Sở Xây dựng' --detected-at 2026-11-25T09:00:00+07:00 --wait 15 | grep -q '\"receipt\": true'"
check "broker ledger verifies" "$BROKER" --home "$T/broker" ledger verify
finish
