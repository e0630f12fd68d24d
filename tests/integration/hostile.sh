#!/usr/bin/env bash
# Attacks against a running broker: each is refused with the right reason,
# nothing refused is stored or forwarded, and honest traffic still flows.
. "$(dirname "$0")/common.sh"
setup_network "$T" "$PORT" op:operator coord:coordinator mallory:operator resp:responder
start_broker "$T"
for n in op coord; do start_node "$T" $n; done
for n in op coord; do wait_for 15 node_connected "$T" $n; done
probe() { "$PROBE" --home "$T/$1" "${@:2}" 2>>"$T/probe.log" || true; }

check "a rostered CURVE key completes the handshake" eq "$(probe mallory handshake)" CONNECTED
check "a CURVE key not in the roster fails the handshake (monitor: auth failed)" \
  eq "$(probe mallory --random-key handshake)" AUTH-FAILED
check "the refused handshake is logged as a security event" grep -q 'reason=unknown-key' "$T/broker.log"

check "a message signed with another member's key is refused" \
  eq "$(probe mallory impersonate "$T/op")" ERR_SIGNER_MISMATCH
check "a forged signature is refused, then the genuine message with the same id is accepted" \
  eq "$(probe mallory forged | tr '\n' ' ')" "ERR_BAD_SIGNATURE RECEIPT "
check "a member without the operator role cannot submit a report" \
  eq "$(probe resp report)" ERR_FORBIDDEN_KIND
check "a resent envelope gets its receipt again; the same id with other bytes is refused" \
  eq "$(probe mallory replay | tr '\n' ' ')" "RECEIPT RECEIPT ERR_DUPLICATE_CONFLICT "

stored=$(sql "$T/broker/ledger.db" "select count(*) from ledger where type=2 and kind=1")
check "only the two genuine reports are in the broker's ledger (acknowledgements aside)" eq "$stored" 2
check "nothing from the impersonation or the forbidden role was stored" \
  eq "$(sql "$T/broker/ledger.db" "select count(*) from ledger where type=2 and sender in ('kontum/op','kontum/resp')")" 0
check "refusals are logged with member and reason" \
  sh -c "grep -c 'SECURITY member=kontum/mallory reason=ERR_' '$T/broker.log' | grep -qx 3"

check "a second session with a connected member's key is refused (ERR_SESSION_EXISTS) and cut" \
  eq "$(probe op second | tr '\n' ' ')" "ERR_SESSION_EXISTS DISCONNECTED "
check "... and logged as a possible stolen key" grep -q 'reason=second-session' "$T/broker.log"
check "the first session keeps working" wait_for 5 node_connected "$T" op

# A copy of the operator's node (same keys) started beside the original: the
# broker refuses it with ERR_SESSION_EXISTS and the copy says so.
cp -a "$T/op" "$T/opcopy"
rm -f "$T/opcopy/node.sock"
start_node "$T" opcopy
check "a second copy of a node is told that another connection holds its key" \
  wait_for 10 sh -c "'$NODE' --home '$T/opcopy' --json status | grep -q '\"session_refused_ms\": [1-9]'"
check "... its status warns about it" \
  sh -c "'$NODE' --home '$T/opcopy' status 2>&1 | grep -q 'another connection with this member'"
check "... it never got connected" sh -c "! '$NODE' --home '$T/opcopy' --json status | grep -q '\"connected\": true'"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
check "the original node is still connected" wait_for 5 node_connected "$T" op

check "the coordinator lists the broker's security events" \
  sh -c "'$NODE' --home '$T/coord' events --broker | grep -q 'ERR_BAD_SIGNATURE'"
check "... and an operator may not" sh -c "! '$NODE' --home '$T/op' events --broker 2>/dev/null"

check "garbage cuts the sender off" eq "$(probe mallory garbage)" DISCONNECTED
check "an oversized frame cuts the sender off" eq "$(probe mallory oversize)" DISCONNECTED
check "a multi-frame message cuts the sender off" eq "$(probe mallory multiframe)" DISCONNECTED
check "the broker is still up" kill -0 "${PIDS[0]}"
check "garbage was stored nowhere" eq "$(sql "$T/broker/ledger.db" "select count(*) from ledger where type=2 and kind=1")" 2

out=$("$NODE" --home "$T/op" --json report --system "Hệ thống văn bản điều hành" --security-level 3 \
  --category attack.phishing --summary "Thư giả mạo gửi cán bộ" --organisation "Sở Tài chính" \
  --detected-at 2026-11-25T09:00:00+07:00 --wait 15)
check "honest traffic still flows during and after the attacks" sh -c "echo '$out' | grep -q '\"receipt\": true'"
check "the coordinator got the honest report and the two genuine probe reports" \
  wait_for 15 sh -c "[ \$(sqlite3 '$T/coord/ledger.db' 'select count(*) from ledger where type=2 and kind=1') = 3 ]"
check "broker ledger verifies" "$BROKER" --home "$T/broker" ledger verify
for n in op coord; do check "$n ledger verifies" "$NODE" --home "$T/$n" ledger verify; done
finish
