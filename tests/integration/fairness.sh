#!/usr/bin/env bash
# Fair queuing in front of the broker's verify thread (issue 6 item 5,
# issue 7). One member floods far above what the broker can verify, and its
# per-member limit cannot save the others (member_rate = 1000000 here: the
# flood is "within its rate"). The others' submissions must still be
# answered with a bounded delay: their p99 within 10x the p99 of a run
# without the flood measured in this same test (plus a 10 ms floor for a
# loaded test machine), an honest node's messages must all arrive, the
# flooder's excess is refused as transient (ERR_RATE_LIMITED, with the
# message id) and the broker reports the flood.
. "$(dirname "$0")/common.sh"
setup_network "$T" "$PORT" op:operator coord:coordinator flooder:operator lat:operator flooder2:operator
echo "member_rate = 1000000" >> "$T/broker/irnet.conf"
start_broker "$T"
for n in op coord; do start_node "$T" $n; done
for n in op coord; do wait_for 15 node_connected "$T" $n; done
probe() { "$PROBE" --home "$T/$1" "${@:2}" 2>>"$T/probe.log" || true; }
p99() { echo "$1" | awk '$1 == "n" {print $6}'; }
count_coord() { sql "$T/coord/ledger.db" "select count(*) from ledger where type=2 and sender='kontum/op'"; }

base=$(probe lat latency 200)
echo "     no flood:   $base"
check "the no-flood run was answered" test -n "$(p99 "$base")"

FLOOD_S=6
probe flooder flood-for $FLOOD_S > "$T/flood.out" &
fp=$!
sleep 1   # the flooder's queue is full by now
t0=$(date +%s%N)
"$NODE" --home "$T/op" message --kind note --text "Báo cáo trong lúc bị tấn công" --to role:coordinator \
  --count 50 >/dev/null
during=$(probe lat latency 200)
t1=$(date +%s%N)
still=0; kill -0 $fp 2>/dev/null && still=1
echo "     flood:      $during ($(( (t1 - t0) / 1000000 )) ms)"
check "the flood was still running when the measurement ended" eq $still 1
check "the honest node's 50 messages all arrive at the coordinator within 20 s of the flood's end" \
  wait_for $((FLOOD_S + 20)) sh -c "[ \$(sqlite3 '$T/coord/ledger.db' \"select count(*) from ledger where type=2 and sender='kontum/op'\") = 50 ]"
wait $fp
echo "     flooder:    $(cat "$T/flood.out")"
check "every latency probe during the flood was answered" \
  sh -c "echo '$during' | awk '\$1 == \"n\" && \$2 == 200 {ok=1} END {exit !ok}'"
check "others' p99 during the flood within 10x the no-flood p99 (+10 ms floor)" \
  awk -v a="$(p99 "$base")" -v b="$(p99 "$during")" 'BEGIN { exit !(b != "" && b <= 10 * a + 10) }'
check "the flooder was refused part of its flood (transient errors)" \
  awk '{exit !($6 > 0)}' "$T/flood.out"
check "the flood was reported, with the queue state" grep -q 'reason=flood.*queue is full' "$T/broker.log"
check "... told so with ERR_RATE_LIMITED naming the refused message" \
  awk '{exit !($8 > 0)}' "$T/flood.out"
check "no honest member was refused" sh -c "! grep -E 'member=kontum/(op|lat|coord) .*reason=(flood|ERR_)' '$T/broker.log'"
# Acknowledgements open no commit of their own: they are written with the
# next batch or within a second, and only those that advance are kept.
to_coord="select coalesce(max(idx), 0) from ledger where type=2 and (to_roles & 8) != 0 and sender <> 'kontum/coord'"
check "the coordinator's last acknowledgement reaches ack_log once the traffic is over" \
  wait_for 10 sh -c "[ \$(sqlite3 '$T/broker/ledger.db' \"select coalesce(max(upto), 0) from ack_log where member='kontum/coord'\") = \$(sqlite3 '$T/broker/ledger.db' \"$to_coord\") ]"
check "ack_log keeps only acknowledgements that advance" \
  eq "$(sql "$T/broker/ledger.db" "select count(*) from ack_log where member='kontum/coord'")" \
     "$(sql "$T/broker/ledger.db" "select count(distinct upto) from ack_log a where member='kontum/coord' and not exists (select 1 from ack_log b where b.member=a.member and b.upto > a.upto and b.time_ms < a.time_ms)")"

# A flood that stays within the member's window: pre-signed (the probe
# spends no CPU on signatures, the broker gets the machine), 1 000 in flight
# as a node's window allows, so the flooder's queue is always full and never
# overflows: nothing of it is refused, and it takes whatever the others
# leave. The others must not wait behind its backlog (808 ms p99 in the
# bench when the commit thread's queue was not fair). p90, not p99: the
# flooder writes ~10 000 messages a second and on a loaded 2-core test
# machine a few fsync stalls of 80-100 ms set the p99 of 200 samples;
# bench/ measures the p99 on a quiet machine.
"$PROBE" --home "$T/flooder2" flood-for $FLOOD_S presigned > "$T/flood2.out" 2> "$T/flood2.err" &
fp=$!
check "the second flooder signed its flood and started" wait_for 60 grep -q FLOODING "$T/flood2.err"
sleep 1
during2=$(probe lat latency 200)
still=0; kill -0 $fp 2>/dev/null && still=1
wait $fp
echo "     windowed flood: $during2; flooder: $(cat "$T/flood2.out")"
check "the windowed flood was still running when the measurement ended" eq $still 1
check "the windowed flooder was refused nothing and got receipts" \
  awk '{exit !($4 > 1000 && $6 == 0)}' "$T/flood2.out"
p90() { echo "$1" | awk '$1 == "n" {print $10}'; }
p50() { echo "$1" | awk '$1 == "n" {print $4}'; }
# The commit thread takes at most 16 of one member's messages into a round
# while others' are coming in (commit.c, ROUND_MEMBER_MAX): without that
# the others waited for the flooder's long rounds (median 8.4 ms here vs
# 1.3 ms without the flood; 3.2 ms with the limit; 5.0 under ASan).
check "others' median during the windowed flood within 5x the no-flood median (+1 ms)" \
  awk -v a="$(p50 "$base")" -v b="$(p50 "$during2")" 'BEGIN { exit !(b != "" && b <= 5 * a + 1) }'
check "others' p90 during the windowed flood within 10x the no-flood p90 (+10 ms floor)" \
  awk -v a="$(p90 "$base")" -v b="$(p90 "$during2")" 'BEGIN { exit !(b != "" && b <= 10 * a + 10) }'
check "broker ledger verifies" "$BROKER" --home "$T/broker" ledger verify
check "the coordinator's ledger verifies" "$NODE" --home "$T/coord" ledger verify
finish
