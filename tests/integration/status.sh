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
# The table in Vietnamese lines up by display width, not bytes: the
# translated headers and "online"/"offline" take fewer columns than bytes.
# Where each column starts, in the header and in every member's line, with
# the words taken from the catalog the node uses.
LANGUAGE=vi LANG=C.UTF-8 "$NODE" --home "$T/coord" members > "$T/members.vi"
columns() { /usr/bin/python3 - "$1" "$(dirname "$NODE")/locale" <<'PY'
import gettext, sys, unicodedata
tr = gettext.translation("irnet", sys.argv[2], ["vi"]).gettext
def width(s):  # terminal columns: combining marks 0, East Asian wide 2
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
head, rows = lines[0], lines[1:]
want = [width(head[:head.index(tr(h))]) for h in ("STATE", "LAST SEEN", "ROSTER")]
bad = []
states = (tr("online"), tr("offline"))
for r in rows:
    i = r.index(" ")                              # after the member id
    i = len(r) - len(r[i:].lstrip(" "))           # the state
    s = next(w for w in states if r.startswith(w, i))
    j = len(r) - len(r[i + len(s):].lstrip(" "))  # last seen: "-" or a time
    k = r.index(" ", j) if r[j] == "-" else j + len("2026-01-01 00:00:00 +0700")
    k = len(r) - len(r[k:].lstrip(" "))           # the roster version
    got = [width(r[:i]), width(r[:j]), width(r[:k])]
    if got != want:
        bad.append("%r: columns at %s, the header's at %s" % (r, got, want))
print("\n".join(bad) if bad else "aligned %d" % len(rows))
PY
}
check "members in Vietnamese: the header and every line start their columns at the same display column" \
  eq "$(columns "$T/members.vi")" "aligned 4"
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
