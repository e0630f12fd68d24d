#!/usr/bin/env bash
# Presence and delivery status, asked of a running broker.
. "$(dirname "$0")/common.sh"
setup_network "$T" "$PORT" op:operator own:owner coord:coordinator resp:responder
start_broker "$T"
for n in op coord; do start_node "$T" $n; done
for n in op coord; do wait_for 15 node_connected "$T" $n; done
sleep 2.5   # let a heartbeat carry roster version and clock

m=$("$NODE" --home "$T/coord" --json members)
online() { echo "$m" | /usr/bin/python3 -c "import json,sys; print({x['id']: x['online'] for x in json.load(sys.stdin)}['$1'])"; }
check "the coordinator sees the operator online" eq "$(online kontum/op)" True
check "... and an owner that never connected offline" eq "$(online kontum/own)" False
rv=$("$KEYS" roster-show --json "$T/roster.bin" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
check "heartbeats carry the roster version each member holds" eq "$(echo "$m" | /usr/bin/python3 -c "import json,sys; print({x['id']: x.get('roster_version') for x in json.load(sys.stdin)}['kontum/op'])")" "$rv"
check "an operator may not list members" sh -c "! '$NODE' --home '$T/op' members 2>'$T/err' && grep -q 'does not allow' '$T/err'"

id=$("$NODE" --home "$T/op" --json message --kind note --text "Đang khắc phục" \
  --to kontum/coord,kontum/own | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0])')
check "the coordinator stores the message" wait_for 15 sh -c "[ \$(sqlite3 '$T/coord/ledger.db' 'select count(*) from ledger where type=2') = 1 ]"
st() { "$NODE" --home "$T/op" --json delivery "$id" | /usr/bin/python3 -c "import json,sys; print({r['member']: r['state'] for r in json.load(sys.stdin)['recipients']}['$1'])"; }
check "the author sees the coordinator acknowledged it" wait_for 10 sh -c "[ \"\$($(declare -f st); id=$id; T=$T; NODE=$NODE; st kontum/coord)\" = acknowledged ]"
check "... and the offline owner has it waiting at the broker" eq "$(st kontum/own)" accepted
check "a member that is not the author may not ask" sh -c "! '$NODE' --home '$T/coord' delivery $id --sender kontum/coord 2>/dev/null"
start_node "$T" own
check "once the owner connects, it acknowledges too" wait_for 15 sh -c "[ \"\$($(declare -f st); id=$id; T=$T; NODE=$NODE; st kontum/own)\" = acknowledged ]"
check "a coordinator may ask about another member's message" \
  sh -c "'$NODE' --home '$T/coord' --json delivery $id --sender kontum/op | grep -q acknowledged"
check "human output names each recipient" sh -c "'$NODE' --home '$T/op' delivery $id | grep -q 'kontum/own'"

# A broker that keeps working with an older roster (withholding a revocation,
# say) is noticed: receipts name the roster version and hash it uses.
"$KEYS" roster-add --roster "$T/roster.json" --request "$T/resp.json" --roles responder --name resp --org "Đội ứng cứu" >/dev/null
"$KEYS" roster-sign --authority "$T/authority" --roster "$T/roster.json" --out "$T/roster-new.bin" >/dev/null
"$NODE" --home "$T/op" roster-import "$T/roster-new.bin" >/dev/null
"$NODE" --home "$T/op" message --kind note --text "Sau khi cập nhật danh sách" --to kontum/coord >/dev/null
check "a node holding a newer roster than the broker's reports it" \
  wait_for 10 sh -c "'$NODE' --home '$T/op' events | grep -q stale-roster"
finish
