#!/usr/bin/env bash
# A member rotates its keys with an overlap: it switches without a gap, the
# old keys work until the overlap ends and not after, history stays valid.
. "$(dirname "$0")/common.sh"
setup_network "$T" "$PORT" op:operator coord:coordinator
start_broker "$T"
for n in op coord; do start_node "$T" $n; done
for n in op coord; do wait_for 15 node_connected "$T" $n; done
coord_has() { [ "$(sql "$T/coord/ledger.db" "select count(*) from ledger where type=2 and sender='kontum/op'")" = "$1" ]; }

"$NODE" --home "$T/op" message --kind note --text "trước khi đổi khóa" --to kontum/coord >/dev/null
check "a message signed with the old key arrives" wait_for 15 coord_has 1
cp -a "$T/op" "$T/op-old"          # what a thief of the old keys would hold
"$NODE" --home "$T/op" rotate-keys > "$T/op-new.json"
check "new keys wait in keys/next with mode 0600" \
  sh -c "[ \$(stat -c %a '$T/op/keys/next/sign.key') = 600 ] && [ \$(stat -c %a '$T/op/keys/next/transport.key') = 600 ]"
"$KEYS" roster-add --roster "$T/roster.json" --request "$T/op-new.json" --roles operator --name op \
  --org "Tổ chức op" --overlap-seconds 6 >/dev/null
"$KEYS" roster-sign --authority "$T/authority" --roster "$T/roster.json" --out "$T/roster-rot.bin" >/dev/null
rot_t0=$(date +%s)
"$BROKER" --home "$T/broker" roster-import "$T/roster-rot.bin" >/dev/null
check "the node switches to its new keys once the roster names them" wait_for 15 grep -q 'switched to them' "$T/op.log"
check "... keeping the old ones" sh -c "ls -d '$T'/op/keys/old-* >/dev/null"
check "... and reconnects with the new transport key" wait_for 15 node_connected "$T" op
"$NODE" --home "$T/op" message --kind note --text "sau khi đổi khóa" --to kontum/coord >/dev/null
check "a message signed with the new key arrives" wait_for 15 coord_has 2

kill "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null || true   # op's daemon: the probe needs the session
sleep 0.5
check "during the overlap the old keys still work" eq "$("$PROBE" --home "$T/op-old" report 2>/dev/null || true)" RECEIPT
while [ $(( $(date +%s) - rot_t0 )) -le 7 ]; do sleep 0.5; done
check "after the overlap the old transport key fails the handshake" \
  eq "$("$PROBE" --home "$T/op-old" handshake 2>/dev/null || true)" AUTH-FAILED
check "history signed with the old key still verifies at the coordinator" "$NODE" --home "$T/coord" ledger verify
check "... and at the broker" "$BROKER" --home "$T/broker" ledger verify
check "... and at the node itself" "$NODE" --home "$T/op" ledger verify
finish
