#!/usr/bin/env bash
# Offline members (issue 4).
#  1. An author offline: the operator signs OFFLINE_MESSAGES (default 1500, more than the node's window of 1000 in flight)
#     progress reports while the broker is down; they wait in its outbox.
#     When the broker comes up the whole backlog goes out at once, against
#     the broker's per-member flood limit (member_rate, set low here,
#     OFFLINE_MEMBER_RATE=100 a second, burst 200, so that the backlog exceeds the burst
#     in every build). The limit may slow an honest author down; it must not
#     lose anything: every message is delivered, none refused.
#  2. A recipient offline for the whole stream (`late`, a coordinator that
#     was never started) receives everything, in order, when it comes back,
#     and so does a recipient that was online (`coord`).
. "$(dirname "$0")/common.sh"
fail_on_unexpected_errors
MSGS=${OFFLINE_MESSAGES:-1500}
RATE=${OFFLINE_MEMBER_RATE:-100}
setup_network "$T" "$PORT" op:operator coord:coordinator late:coordinator
echo "member_rate = $RATE" >> "$T/broker/irnet.conf"

start_node "$T" op        # no broker yet: everything stays in the outbox
: > "$T/sent"
left=$MSGS
while [ $left -gt 0 ]; do
  k=$(( left < 500 ? left : 500 ))
  out=$("$NODE" --home "$T/op" --json message --kind note --text "Báo cáo tiến độ (ngoại tuyến)" \
    --to role:coordinator --count $k) || { check "message command works" false; break; }
  printf '%s\n' "$out" | grep -o '[0-9a-f]\{32\}' >> "$T/sent"
  left=$((left - k))
done
check "$MSGS messages stored while the broker is down" eq "$(grep -c . "$T/sent")" "$MSGS"
check "all of them pending" eq "$(sql "$T/op/ledger.db" "select count(*) from outbox where state='pending'")" "$MSGS"

start_broker "$T"
start_node "$T" coord
t0=$(date +%s)
limit=$(( MSGS / RATE * 4 + 20 ))   # 4x the ideal time at the limit, plus start-up
check "the backlog drains (bounded: ${limit}s)" wait_for $limit sh -c \
  "[ \$(sqlite3 '$T/op/ledger.db' \"select count(*) from outbox where state<>'done'\") = 0 ]"
echo "# backlog of $MSGS: outbox empty or stuck after $(( $(date +%s) - t0 )) s; states: $(sql "$T/op/ledger.db" "select group_concat(state || '=' || n) from (select state, count(*) n from outbox group by state)")"
check "nothing refused at the author" eq "$(sql "$T/op/ledger.db" "select count(*) from outbox where state='refused'")" 0
check "coord receives the backlog" wait_for 20 sh -c \
  "[ \$(sqlite3 '$T/coord/ledger.db' 'select count(*) from ledger where type=2') -ge $MSGS ]"

start_node "$T" late
check "late (offline for the whole stream) receives everything" wait_for 30 sh -c \
  "[ \$(sqlite3 '$T/late/ledger.db' 'select count(*) from ledger where type=2') -ge $MSGS ]"
sleep 1
sort "$T/sent" > "$T/sent.sorted"
want=$(sql "$T/op/ledger.db" "select group_concat(sequence) from (select sequence from outbox order by sequence)")
for n in coord late; do
  sql "$T/$n/ledger.db" "select lower(hex(message_id)) from ledger where type=2" | sort > "$T/$n.ids"
  check "$n: every sent id exactly once ($(wc -l < "$T/$n.ids") of $MSGS)" cmp -s "$T/sent.sorted" "$T/$n.ids"
  check "$n: in sequence order, no gap" same_list \
    "$(sql "$T/$n/ledger.db" "select group_concat(sequence) from (select sequence from ledger where type=2 order by idx)")" "$want"
done
check "broker accepted the author's messages in sequence, none skipped" same_list \
  "$(sql "$T/broker/ledger.db" "select group_concat(sequence) from (select sequence from ledger where type=2 order by idx)")" "$want"
cleanup_all
check "broker ledger verifies" "$BROKER" --home "$T/broker" ledger verify
for n in op coord late; do check "$n ledger verifies" "$NODE" --home "$T/$n" ledger verify; done
finish
