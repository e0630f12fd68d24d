#!/usr/bin/env bash
# An fsync precedes every receipt (issue 4): the broker runs under strace,
# an operator sends FSYNC_ROUNDS single messages one at a time, waiting for
# each receipt, and the trace must show, for every round, that the broker
# synced its ledger after the message arrived and before it sent the receipt.
#
# The criterion, and why it is robust:
#  * strace -f follows every thread, so it does not matter which thread reads
#    the socket, which one commits and which one sends (the broker is
#    multi-threaded: io, verify and commit threads, plus libzmq's own I/O
#    thread, which does the actual recvfrom/sendto). -yy names each fd: the
#    ledger files by path, TCP sockets by their addresses.
#  * Rounds are strictly sequential and bracketed by wall-clock times taken
#    by this script (same clock as strace -tt): round k starts before the
#    `message` command and ends after `outbox` shows the message "done",
#    i.e. after the node stored the receipt. Everything below is searched
#    inside that window only, so heartbeats, handshakes and other rounds
#    cannot be mistaken for this round's events.
#  * Arrival A: the first read on a client TCP socket (local port = the
#    broker's) that returns at least MIN_IN bytes. The message carries a
#    1500-byte text, so its Submit is far bigger than anything else a node
#    sends (acks, heartbeats: < 100 bytes). The socket of A is the author's.
#  * Receipt R: the first send on the author's socket after A with at least
#    MIN_OUT bytes (a receipt is ~300 bytes encrypted; heartbeats and ZMTP
#    pings are < 100). It must exist inside the window: the node held the
#    receipt before the window closed.
#  * Required: a WAL write (pwrite64 to ledger.db-wal) that starts after A,
#    and an fdatasync/fsync of the broker's ledger.db-wal or ledger.db that
#    RETURNED after that write started and before R started. A sync that
#    merely began before R would not do: the receipt must wait for the
#    sync to complete (the time of a "<... resumed>" line is when the call
#    returned).
# The trace also covers the delivery to the coordinator (reported, not
# required here: a Deliver carries the broker's receipt, so the same rule
# applies).
. "$(dirname "$0")/common.sh"
fail_on_unexpected_errors
ROUNDS=${FSYNC_ROUNDS:-6}
MIN_IN=1000
MIN_OUT=200
command -v strace >/dev/null || { echo "FAIL - strace is not installed (scripts/install-deps.sh)"; exit 1; }
setup_network "$T" "$PORT" op:operator coord:coordinator
TRACE="$T/strace.txt"
strace -f -tt -yy -e trace=fsync,fdatasync,sendto,sendmsg,write,writev,pwrite64,read,recvfrom,recvmsg \
  -o "$TRACE" "$BROKER" --home "$T/broker" run > "$T/broker.out" 2> "$T/broker.log" &
SPID=$!
PIDS+=($SPID)
check "broker starts under strace" wait_for 20 grep -q READY "$T/broker.out"
BPID=$(pgrep -P "$SPID" | head -n 1 || true)
start_node "$T" op
start_node "$T" coord
check "operator connected" wait_for 20 node_connected "$T" op
check "coordinator connected" wait_for 20 node_connected "$T" coord
sleep 0.5

TEXT="Cập nhật tiến độ: $(printf 'x%.0s' $(seq 1 1500))"
: > "$T/rounds"
for k in $(seq 1 "$ROUNDS"); do
  t0=$(date +%H:%M:%S.%6N)
  id=$("$NODE" --home "$T/op" --json message --kind note --text "$TEXT" --count 1 \
        --to role:coordinator | grep -o '[0-9a-f]\{32\}' || true)
  if [ -z "$id" ]; then check "round $k: message stored" false; continue; fi
  ok=0
  for i in $(seq 1 200); do   # poll the outbox until the receipt is recorded (20 s)
    if "$NODE" --home "$T/op" --json outbox | /usr/bin/python3 -c '
import json, sys
sys.exit(0 if any(o["id"] == sys.argv[1] and o["state"] == "done" for o in json.load(sys.stdin)) else 1)' "$id"
    then ok=1; break; fi
    sleep 0.1
  done
  t1=$(date +%H:%M:%S.%6N)
  check "round $k: receipt recorded at the node" [ $ok = 1 ]
  echo "$k $t0 $t1 $id" >> "$T/rounds"
  sleep 0.3
done
check "coordinator received all $ROUNDS" wait_for 20 sh -c \
  "[ \$(sqlite3 '$T/coord/ledger.db' 'select count(*) from ledger where type=2') = $ROUNDS ]"

# Stop the broker (strace exits with it) so the trace is complete.
[ -n "$BPID" ] && kill "$BPID" 2>/dev/null || true
for i in $(seq 1 300); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
wait "$SPID" 2>/dev/null || true

cat > "$T/fsync.py" <<'EOF'
import re, sys
trace, rounds_file, port, min_in, min_out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def secs(hms):
    h, m, s = hms.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)
first = None
def norm(t):  # across midnight: times earlier than the first by > 12 h are the next day
    return t + 86400 if first is not None and t < first - 43200 else t
line_re = re.compile(r"^(\d+)\s+(\d\d:\d\d:\d\d\.\d+)\s+(.*)$")
call_re = re.compile(r"^(\w+)\((\d+)<(TCP:\[[^\]]*\]|[^>]*)>")
res_re = re.compile(r"=\s+(-?\d+)(?:\s+\w+.*)?$")
events, pending = [], {}
for raw in open(trace, errors="replace"):
    m = line_re.match(raw.rstrip("\n"))
    if not m:
        continue
    tid, t, rest = m.group(1), secs(m.group(2)), m.group(3)
    if first is None:
        first = t
    t = norm(t)
    if rest.startswith("<... "):             # the end of an unfinished call
        start, head = pending.pop(tid, (None, None))
        if head is None:
            continue
        ev_start, text = start, head + rest
    elif rest.endswith("<unfinished ...>"):
        pending[tid] = (t, rest[:-len("<unfinished ...>")])
        continue
    else:
        ev_start, text = t, rest
    c = call_re.match(text)
    r = res_re.search(text)
    if not c or not r:
        continue
    events.append({"tid": tid, "start": ev_start, "end": t, "call": c.group(1),
                   "fd": c.group(2), "what": c.group(3), "ret": int(r.group(1))})
events.sort(key=lambda e: e["start"])
def client_tcp(e):
    return e["what"].startswith("TCP:[") and (":%s->" % port) in e["what"]
READS, SENDS, SYNCS = {"read", "recvfrom", "recvmsg"}, {"sendto", "sendmsg", "write", "writev"}, {"fsync", "fdatasync"}
def is_ledger(e, wal_only=False):
    return e["what"].endswith("/broker/ledger.db-wal") or (not wal_only and e["what"].endswith("/broker/ledger.db"))
bad = 0
for line in open(rounds_file):
    k, t0, t1, mid = line.split()
    w0, w1 = norm(secs(t0)), norm(secs(t1))
    win = [e for e in events if w0 <= e["start"] and e["end"] <= w1]
    arr = next((e for e in win if e["call"] in READS and client_tcp(e) and e["ret"] >= min_in), None)
    if arr is None:
        print("round %s: FAIL: no submit (a read of >= %d bytes) seen on a client socket" % (k, min_in)); bad += 1; continue
    rec = next((e for e in win if e["call"] in SENDS and e["fd"] == arr["fd"] and e["what"] == arr["what"]
                and e["start"] > arr["end"] and e["ret"] >= min_out), None)
    if rec is None:
        print("round %s: FAIL: no receipt (a send of >= %d bytes) on the author's socket" % (k, min_out)); bad += 1; continue
    wal = next((e for e in win if e["call"] == "pwrite64" and is_ledger(e, True) and arr["end"] <= e["start"] < rec["start"]), None)
    syncs = [e for e in win if e["call"] in SYNCS and is_ledger(e) and e["ret"] == 0
             and wal is not None and e["start"] >= wal["start"] and e["end"] <= rec["start"]]
    dlv = next((e for e in win if e["call"] in SENDS and client_tcp(e) and e["what"] != arr["what"]
                and e["start"] > arr["end"] and e["ret"] >= min_out), None)
    ms = lambda e: "%.3f ms" % ((e["start"] - arr["end"]) * 1000)
    if wal is None or not syncs:
        print("round %s: FAIL: submit at %s, receipt sent %s later, %s" % (k, t0, ms(rec),
              "no WAL write before it" if wal is None else "no completed fsync/fdatasync of the ledger in between"))
        bad += 1
        continue
    s = syncs[0]
    print("round %s: submit %d B read (thread %s) -> WAL write +%s (thread %s) -> %s returned +%.3f ms (thread %s)"
          " -> receipt %d B sent +%s (thread %s)%s" % (k, arr["ret"], arr["tid"], ms(wal), wal["tid"], s["call"],
          (s["end"] - arr["end"]) * 1000, s["tid"], rec["ret"], ms(rec), rec["tid"],
          "; delivery to the coordinator +%s" % ms(dlv) if dlv else ""))
print("%d round(s) without an fsync before the receipt" % bad)
sys.exit(1 if bad else 0)
EOF
check "the trace was written" [ -s "$TRACE" ]
check "$(wc -l < "$T/rounds") rounds, each: submit read -> ledger WAL write -> fsync/fdatasync returned -> receipt sent" \
  /usr/bin/python3 "$T/fsync.py" "$TRACE" "$T/rounds" "$PORT" "$MIN_IN" "$MIN_OUT"
check "all $ROUNDS rounds analysed" eq "$(wc -l < "$T/rounds")" "$ROUNDS"
check "broker ledger verifies" "$BROKER" --home "$T/broker" ledger verify
for n in op coord; do check "$n ledger verifies" "$NODE" --home "$T/$n" ledger verify; done
finish
