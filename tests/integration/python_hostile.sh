#!/usr/bin/env bash
# An independent hostile client (tests/hostile/attack.py, Python, written from
# docs/PROTOCOL.md only) attacks a live broker while honest traffic flows.
# Every attack must be refused the way the protocol says, nothing refused may
# be stored or delivered, every honest message must arrive, ledgers verify.
. "$(dirname "$0")/common.sh"
HOSTILE="$(cd "$(dirname "$0")/../hostile" && pwd)"
PY=/usr/bin/python3   # Debian's python3: python3-zmq and python3-nacl
MIN_ROUNDS=3; MAX_ROUNDS=40; PER_ROUND=50

check "the Python codec matches the PROTOCOL.md test vectors" \
  sh -c "'$PY' '$HOSTILE/irnet_wire.py' selftest >/dev/null"

setup_network "$T" "$PORT" op:operator coord:coordinator mallory:operator resp:responder
start_broker "$T"
for n in op coord; do start_node "$T" $n; done
for n in op coord; do wait_for 15 node_connected "$T" $n; done

# Honest traffic, at the same time as the attacks: rounds of 50 messages
# from op to the coordinators until attack.py is done (at least MIN_ROUNDS).
(
  r=0
  while [ $r -lt $MIN_ROUNDS ] || { [ ! -e "$T/attack.done" ] && [ $r -lt $MAX_ROUNDS ]; }; do
    r=$((r + 1))
    "$NODE" --home "$T/op" message --kind note --to role:coordinator \
      --text "Báo cáo tiến độ, vòng $r: đã cô lập máy chủ" --count $PER_ROUND \
      >> "$T/honest.out" 2>> "$T/honest.err" || echo "round $r failed" >> "$T/honest.fail"
    echo $r > "$T/honest.rounds"
    [ -e "$T/attack.done" ] || echo $r > "$T/honest.during"
    sleep 0.3
  done
) &
HONEST=$!

rc=0
"$PY" "$HOSTILE/attack.py" --dir "$T" --attacker mallory --victim op --responder resp \
  --recipient coord > "$T/attack.out" 2>&1 || rc=$?
touch "$T/attack.done"
sed 's/^/     /' "$T/attack.out"
check "every attack is refused as the protocol says (attack.py exit 0)" eq "$rc" 0
wait "$HONEST" || true

rounds=$(cat "$T/honest.rounds")
total=$((rounds * PER_ROUND))
check "honest traffic flowed while the attacks ran ($(cat "$T/honest.during" 2>/dev/null || echo 0) of $rounds rounds)" \
  test -s "$T/honest.during"
check "every honest round was signed and stored at op" test ! -e "$T/honest.fail"
check "op signed $total honest messages" eq "$(grep -c . "$T/honest.out" || true)" "$total"
check "all $total honest messages reached coord" wait_for 60 sh -c \
  "[ \$(sqlite3 '$T/coord/ledger.db' \"select count(*) from ledger where type=2 and sender='$NET/op'\") = $total ]"
check "op's outbox got a receipt for each of them" wait_for 30 sh -c \
  "[ \$(sqlite3 '$T/op/ledger.db' \"select count(*) from outbox where state='done'\") = $total ]"
check "the broker ledgered each honest message once" \
  eq "$(sql "$T/broker/ledger.db" "select count(*) from ledger where type=2 and sender='$NET/op'")" "$total"
check "the broker is still up" kill -0 "${PIDS[0]}"
check "op's daemon is still connected after the stolen-key attempt" wait_for 10 node_connected "$T" op
check "coord's daemon is still connected" wait_for 10 node_connected "$T" coord
check "broker ledger verifies" "$BROKER" --home "$T/broker" ledger verify
for n in op coord; do check "$n ledger verifies" "$NODE" --home "$T/$n" ledger verify; done
finish
