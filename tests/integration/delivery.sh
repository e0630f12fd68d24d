#!/usr/bin/env bash
# A report is delivered to owner and coordinator exactly once, with a
# receipt; a member it is not addressed to gets nothing; all ledgers verify.
. "$(dirname "$0")/common.sh"
setup_network "$T" "$PORT" op:operator own:owner coord:coordinator resp:responder
start_broker "$T"
for n in op own coord resp; do start_node "$T" $n; done
for n in op own coord resp; do wait_for 15 node_connected "$T" $n; done

out=$("$NODE" --home "$T/op" --json report --system "Cổng dịch vụ công" --security-level 3 \
  --category attack.dos --summary "Tấn công từ chối dịch vụ vào cổng dịch vụ công" \
  --detected-at 2026-11-25T09:00:00+07:00 --organisation "Văn phòng UBND tỉnh" --wait 15)
id=$(echo "$out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["message_id"])')
check "report stored and acknowledged by a signed receipt" eq "$(echo "$out" | grep -c '"receipt": true')" 1
for n in own coord; do
  check "$n receives the report" wait_for 15 sh -c "'$NODE' --home '$T/$n' incidents | grep -q $id"
done
sleep 1
for n in own coord; do
  check "$n holds it exactly once" eq "$(sql "$T/$n/ledger.db" "select count(*) from ledger where type=2 and hex(message_id)=upper('$id')")" 1
  check "$n stored the broker's receipt with it" eq "$(sql "$T/$n/ledger.db" "select count(*) from ledger where type=2 and receipt is not null")" 1
done
check "responder (not addressed) receives nothing" eq "$(sql "$T/resp/ledger.db" "select count(*) from ledger where type=2")" 0
check "broker ledgered it once" eq "$(sql "$T/broker/ledger.db" "select count(*) from ledger where type=2 and kind=1")" 1
check "operator outbox is done" eq "$(sql "$T/op/ledger.db" "select state from outbox")" done
check "show --json verifies the signature at the coordinator" \
  sh -c "'$NODE' --home '$T/coord' --json show $id | grep -q '\"verified\": true'"

# A node that was offline gets what was sent meanwhile, after reconnecting.
kill "${PIDS[3]}"; wait "${PIDS[3]}" 2>/dev/null || true   # coord
"$NODE" --home "$T/op" report --system "Hệ thống thư điện tử" --security-level 2 --category fault.power --organisation "Sở Nội vụ" \
  --summary "Mất điện tại phòng máy" --detected-at 2026-11-25T10:00:00+07:00 --wait 15 >/dev/null
check "owner receives the second report" wait_for 15 sh -c "[ \$(sqlite3 '$T/own/ledger.db' 'select count(*) from ledger where type=2 and kind=1') = 2 ]"
start_node "$T" coord
check "coordinator catches up after restart" wait_for 15 sh -c "[ \$(sqlite3 '$T/coord/ledger.db' 'select count(*) from ledger where type=2 and kind=1') = 2 ]"

# A broker restart: nodes reconnect by themselves and traffic flows again.
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true
"$NODE" --home "$T/op" report --system "Hệ thống một cửa" --security-level 3 --category attack.malware --organisation "Sở Tư pháp" \
  --summary "Mã độc trên máy trạm" --detected-at 2026-11-25T11:00:00+07:00 >/dev/null
check "report is queued while the broker is down" eq "$(sql "$T/op/ledger.db" "select count(*) from outbox where state='pending'")" 1
# A ledger from before the broker's sequences table: the broker fills the
# table from the ledger once, so the sender's next message is not a gap.
op_last=$(sql "$T/broker/ledger.db" "select last from sequences where sender='kontum/op'")
sql "$T/broker/ledger.db" "delete from sequences; delete from meta where k='sequences_imported'"
# Another process holds the ledger's write lock for 8 s, longer than the
# broker waits for it (5 s): the refill fails at first, and until a retry
# works the sender's report is answered "retry later", never counted from 0.
( echo "BEGIN IMMEDIATE;"; echo "SELECT 1;"; sleep 8; echo "COMMIT;" ) | /usr/bin/sqlite3 "$T/broker/ledger.db" >/dev/null &
locker=$!
sleep 0.5
start_broker "$T"
check "a refill that cannot take the lock is reported" \
  wait_for 10 grep -q "cannot fill the sequences table" "$T/broker.log"
check "... and nothing of the sender's is taken meanwhile" \
  eq "$(sql "$T/broker/ledger.db" "select count(*) from sequences")" 0
wait $locker
check "the broker refills each sender's last sequence from its ledger once it can" \
  wait_for 10 sh -c "[ \"\$(sqlite3 '$T/broker/ledger.db' \"select v from meta where k='sequences_imported'\")\" = 1 ]"
check "queued report goes out after the broker restarts" wait_for 20 sh -c "[ \$(sqlite3 '$T/coord/ledger.db' 'select count(*) from ledger where type=2 and kind=1') = 3 ]"
check "outbox drained" wait_for 10 sh -c "[ \$(sqlite3 '$T/op/ledger.db' \"select count(*) from outbox where state='pending'\") = 0 ]"
check "... and takes the queued report as the next in the sender's sequence" \
  eq "$(sql "$T/broker/ledger.db" "select last from sequences where sender='kontum/op'")" $((op_last + 1))

check "broker ledger verifies" "$BROKER" --home "$T/broker" ledger verify
for n in op own coord resp; do check "$n ledger verifies" "$NODE" --home "$T/$n" ledger verify; done
finish
