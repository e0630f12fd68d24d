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
check "... none sent yet: no attempt, no last try" \
  eq "$(sql "$T/op/ledger.db" "select count(*) from outbox where attempts = 0 and last_try_ms is null")" "$MSGS"
check "... and 'outbox' says so" sh -c "LANGUAGE=en LANG=C '$NODE' --home '$T/op' outbox | head -1 | grep -q 'pending  not sent yet'"

start_broker "$T"
start_node "$T" coord
t0=$(date +%s)
limit=$(( MSGS / RATE * 4 + 20 ))   # 4x the ideal time at the limit, plus start-up
check "the backlog drains (bounded: ${limit}s)" wait_for $limit sh -c \
  "[ \$(sqlite3 '$T/op/ledger.db' \"select count(*) from outbox where state<>'done'\") = 0 ]"
echo "# backlog of $MSGS: outbox empty or stuck after $(( $(date +%s) - t0 )) s; states: $(sql "$T/op/ledger.db" "select group_concat(state || '=' || n) from (select state, count(*) n from outbox group by state)")"
check "nothing refused at the author" eq "$(sql "$T/op/ledger.db" "select count(*) from outbox where state='refused'")" 0
# attempts counts every send to the broker, last_try_ms the last one. The
# first message goes out once and is taken (within the burst); the flood
# limit refuses others "for now" (ERR_RATE_LIMITED) and the node sends them
# again: each refusal is one send more than the one that was taken.
refusals=$(grep -c 'RATE_LIMITED' "$T/op.log" || true)
read -r first_tries sum_tries max_tries unstamped <<<"$(sql "$T/op/ledger.db" "select (select attempts from outbox order by sequence limit 1), sum(attempts), max(attempts), sum(last_try_ms is null or last_try_ms < created_ms) from outbox" | tr '|' ' ')"
echo "# attempts: first message $first_tries, total $sum_tries for $MSGS messages, at most $max_tries; $refusals refusals for now"
check "the first message, sent once, shows 1 attempt" eq "$first_tries" 1
check "messages refused for now and sent again show 2 attempts or more" test "$max_tries" -ge 2
check "... every refusal counted: sends >= messages + refusals ($sum_tries >= $MSGS + $refusals)" \
  test "$sum_tries" -ge $((MSGS + refusals))
check "every message shows when it was last sent" eq "$unstamped" 0
check "'outbox --json' shows them (attempts, last_try as local time)" sh -c "'$NODE' --home '$T/op' --json outbox | /usr/bin/python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o[0][\"attempts\"] == 1 and o[0][\"last_try\"].endswith(\"+0700\"), o[0]
assert max(m[\"attempts\"] for m in o) == $max_tries'"
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
