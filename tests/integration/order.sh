#!/usr/bin/env bash
# Several verify threads, one commit order (issue 7). The broker checks
# signatures on verify_threads threads and the commit thread puts the
# checked jobs back into the order the io thread handed them over. Here 4
# threads on this machine's cores, so threads overtake each other: two
# members flood back to back as fast as they can, and every message must be
# accepted at the first try (the broker takes each sender's sequence strictly
# in order: one overtaken message would come back as ERR_SEQUENCE_GAP), and
# the ledger must hold each sender's sequences in increasing ledger order.
# The same with verify_threads = 1.
. "$(dirname "$0")/common.sh"
setup_network "$T" "$PORT" a:operator b:operator
probe() { "$PROBE" --home "$T/$1" "${@:2}" 2>>"$T/probe.log" || true; }
N=1000 # below the per-member queue (1024): none refused as transient
for threads in 4 1; do
  sed -i '/^verify_threads/d; /^member_rate/d' "$T/broker/irnet.conf"
  printf 'member_rate = 1000000\nverify_threads = %s\n' "$threads" >> "$T/broker/irnet.conf"
  start_broker "$T"
  check "the broker runs $threads verify threads" wait_for 20 grep -q "$threads verify threads" "$T/broker.log"
  probe a flood $N > "$T/a.out" &
  pa=$!
  probe b flood $N > "$T/b.out"
  wait $pa
  echo "     a: $(cat "$T/a.out"); b: $(cat "$T/b.out")"
  for m in a b; do
    check "$threads threads: every message of $m accepted at the first try" \
      awk -v n=$N '{ exit !($2 == n && $4 == n && $6 == 0) }' "$T/$m.out"
    out_of_order=$(sql "$T/broker/ledger.db" "select count(*) from ledger x join ledger y
      on y.sender = x.sender and y.type = 2 and y.idx > x.idx and y.sequence < x.sequence
      where x.type = 2 and x.sender = 'kontum/$m'")
    check "$threads threads: $m's sequences are in ledger order" eq "$out_of_order" 0
  done
  check "$threads threads: no sequence gap was reported" sh -c "! grep -qi 'sequence.gap\|earlier message is missing' '$T/broker.log'"
  bp=${PIDS[-1]}
  kill "$bp"
  check "$threads threads: the broker stops cleanly (every verify thread passes the stop on)" \
    timeout 20 tail --pid="$bp" -f /dev/null
  wait "$bp" || true
done
check "broker ledger verifies" "$BROKER" --home "$T/broker" ledger verify
finish
