#!/usr/bin/env bash
# Durability under SIGKILL (issue 4).
#
# Three operators send CRASH_MESSAGES (default 10000) progress reports to
# role:coordinator,role:owner in chunks of CRASH_CHUNK (default 200), each
# chunk one `irnet-node message --count` command run from a loop. Meanwhile
# the harness kills the broker and the nodes with SIGKILL at random moments
# and restarts them, and every other step starts one of them with
# IRNET_CRASH_AT set, so that it kills itself at a fixed crash point:
#   broker-mid-batch, broker-after-commit                      (broker)
#   node-before-commit, node-after-commit,
#   node-after-receipt-before-dequeue                          (an operator)
#   node-after-store-before-ack                                (a recipient)
# A third recipient (`late`, a second coordinator) stays offline for the
# whole stream and is started only at the end (the offline-node test).
#
# "Sent" = the ids printed by a message command that succeeded (kept in
# sent.NAME). A command that failed (daemon down or killed) records nothing
# and the loop tries again. Messages an author committed but could not report
# (it was killed between COMMIT and its reply: node-after-commit) are in the
# author's own ledger; they must be delivered like the others, and they are
# the only thing besides the sent ids a recipient may hold from the senders.
#
# At the end (bounded wait for quiescence), for every recipient: every sent
# id exactly once, nothing else from the senders but their own unreported
# commits, each sender's messages in increasing (and gap-free) sequence
# order; every ledger verifies; every crash point fired at least once; no
# process died unless we killed it or it reached its crash point.
#
# Knobs: CRASH_MESSAGES, CRASH_CHUNK, CRASH_PACE_MS (mean pause between a
# sender's chunks), CRASH_SEED (replay a run's random choices),
# CRASH_STREAM_SECONDS (the senders give up), CRASH_QUIESCE_SECONDS,
# CRASH_BROKER_CONF (extra lines for the broker's irnet.conf; default none).
# Worst case (a hang): about STREAM + QUIESCE seconds, under ctest's 300 s.
. "$(dirname "$0")/common.sh"
fail_on_unexpected_errors
MSGS=${CRASH_MESSAGES:-10000}
CHUNK=${CRASH_CHUNK:-200}
PACE_MS=${CRASH_PACE_MS:-1500}   # random pause 0..2x: spreads the crashes over the stream
STREAM_SECONDS=${CRASH_STREAM_SECONDS:-120}
QUIESCE_SECONDS=${CRASH_QUIESCE_SECONDS:-90}
SEED=${CRASH_SEED:-$(( ($$ + $(date +%s)) % 32768 ))}
RANDOM=$SEED
echo "# crash test: $MSGS messages in chunks of $CHUNK, seed $SEED (CRASH_SEED=$SEED to replay the choices)"
PY=/usr/bin/python3
START=$(date +%s)

SENDERS=(op1 op2 op3)
RCPTS=(coord own late)
PROCS=(broker op1 op2 op3 coord own)   # late: only at the end
setup_network "$T" "$PORT" op1:operator op2:operator op3:operator coord:coordinator own:owner \
  late:coordinator
if [ -n "${CRASH_BROKER_CONF:-}" ]; then
  printf '%s\n' "$CRASH_BROKER_CONF" >> "$T/broker/irnet.conf"
  echo "# broker conf extra: $CRASH_BROKER_CONF"
fi

# ---- process table ----
declare -A PID=() ARMED=() CPLINES=() FIRED=()
SPIDS=()
UNEXPECTED=0 KILLS=0 PHASES=0
sync_pids() {
  PIDS=()
  local n
  for n in "${!PID[@]}"; do [ -n "${PID[$n]}" ] && PIDS+=("${PID[$n]}"); done
  PIDS+=("${SPIDS[@]}")
}
alive() { # PID: running (not a zombie)
  local st
  st=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}
start() { # NAME [CRASH_SPEC]
  local name=$1 spec=${2:-} bin=$NODE i
  [ "$name" = broker ] && bin=$BROKER
  : > "$T/$name.out"
  CPLINES[$name]=$(grep -c 'crash point' "$T/$name.log" 2>/dev/null || true)
  echo "--- harness: start $(date +%T.%N)${spec:+ with IRNET_CRASH_AT=$spec}" >> "$T/$name.log"
  IRNET_CRASH_AT=$spec "$bin" --home "$T/$name" run > "$T/$name.out" 2>> "$T/$name.log" &
  PID[$name]=$!
  # Out of the job table: bash reaps it quietly (no "Killed" notices); we
  # watch /proc and the log instead of exit statuses.
  disown "${PID[$name]}"
  ARMED[$name]=$spec
  sync_pids
  for i in $(seq 1 300); do   # READY, or it died (check_deaths sees to that)
    grep -q READY "$T/$name.out" && return 0
    alive "${PID[$name]}" || return 0
    sleep 0.1
  done
  echo "     $name: no READY after 30 s" >&2
  return 1
}
gone() { # PID [TENTHS]: wait until the process is reaped. A zombie leader
  # may still have threads holding the listening socket: wait for all of it.
  local i
  for i in $(seq 1 "${2:-300}"); do [ -e "/proc/$1" ] || return 0; sleep 0.1; done
  return 1
}
kill9() { # NAME
  local pid=${PID[$1]:-}
  [ -n "$pid" ] || return 0
  kill -9 "$pid" 2>/dev/null || true
  gone "$pid" 100 || echo "     $1 (pid $pid) still there 10 s after SIGKILL" >&2
  PID[$1]=
  ARMED[$1]=
  KILLS=$((KILLS + 1))
  echo "--- harness: SIGKILL $(date +%T.%N)" >> "$T/$1.log"
}
# Reap processes that died by themselves: expected only at a crash point
# (the process logs "crash point NAME reached" just before its SIGKILL).
check_deaths() {
  local name pid n point
  for name in "${!PID[@]}"; do
    pid=${PID[$name]}
    [ -n "$pid" ] || continue
    alive "$pid" && continue
    gone "$pid" 100 || echo "     $name (pid $pid) is a zombie that is not reaped" >&2
    PID[$name]=
    n=$(grep -c 'crash point' "$T/$name.log" || true)
    point=${ARMED[$name]%%:*}
    if [ -n "$point" ] && [ "$n" -gt "${CPLINES[$name]}" ] &&
       grep 'crash point' "$T/$name.log" | tail -n +$(( ${CPLINES[$name]} + 1 )) |
         grep -q "crash point $point reached"; then
      FIRED[$point]=$(( ${FIRED[$point]:-0} + 1 ))
    else
      echo "     UNEXPECTED: $name (pid $pid) exited by itself; end of its log:" >&2
      tail -n 5 "$T/$name.log" | sed 's/^/       /' >&2
      UNEXPECTED=$((UNEXPECTED + 1))
    fi
    start "$name" || UNEXPECTED=$((UNEXPECTED + 1))
  done
}
# Stop everything with SIGTERM and wait (bounded) until it has exited, so
# that sanitizer reports are in the logs before finish reads them.
cleanup_all() {
  local p
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] || continue
    gone "$p" 300 || { echo "     pid $p did not stop in 30 s: SIGKILL" >&2; kill -9 "$p" 2>/dev/null || true; }
    wait "$p" 2>/dev/null || true
  done
  PIDS=()
}
sleep_rand() { # MIN_MS MAX_MS
  local ms=$(( $1 + RANDOM % ($2 - $1 + 1) ))
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}

# ---- the senders ----
sender() { # NAME QUOTA DEADLINE (epoch seconds)
  local name=$1 quota=$2 deadline=$3 got=0 tries=0 out ids n k
  : > "$T/sent.$name"
  while [ $got -lt "$quota" ] && [ $tries -lt 5000 ] && [ "$(date +%s)" -lt "$deadline" ]; do
    tries=$((tries + 1))
    k=$(( quota - got < CHUNK ? quota - got : CHUNK ))
    if out=$("$NODE" --home "$T/$name" --json message --kind note \
               --text "Báo cáo tiến độ xử lý sự cố: $name, lô $tries" \
               --to role:coordinator,role:owner --count "$k" 2>> "$T/$name-cmd.log"); then
      ids=$(printf '%s\n' "$out" | grep -o '[0-9a-f]\{32\}' || true)
      n=0
      [ -n "$ids" ] && n=$(printf '%s\n' "$ids" | wc -l) && printf '%s\n' "$ids" >> "$T/sent.$name"
      [ "$n" -eq "$k" ] || echo "$name: asked for $k messages, the command printed $n ids" >> "$T/short"
      got=$((got + n))
      sleep_rand 0 $((2 * PACE_MS))
    else
      sleep 0.2
    fi
  done
  echo "$name: $got sent in $tries commands" >> "$T/senders"
}
senders_running() {
  local p
  for p in "${SPIDS[@]}"; do alive "$p" && return 0; done
  return 1
}

for n in "${PROCS[@]}"; do start "$n"; done
for n in "${PROCS[@]:1}"; do wait_for 20 node_connected "$T" "$n"; done

deadline=$(( $(date +%s) + STREAM_SECONDS ))
per=$(( MSGS / 3 ))
sender op1 $(( MSGS - 2 * per )) $deadline & SPIDS+=($!)
sender op2 $per $deadline & SPIDS+=($!)
sender op3 $per $deadline & SPIDS+=($!)
sync_pids

# ---- chaos, while the senders run ----
# Crash points in round-robin: (who, point, lowest hit, highest hit). The
# hit counts: node-before/after-commit pass once per command, the receipt
# point once per receipt, the ack point once per stored batch, broker-mid-
# batch once per accepted message, broker-after-commit once per commit.
# The receipt point comes first and with a small hit count: it needs a
# stream of receipts at the armed operator, so it must not be left to the end
# of a fast run (it once never fired under ASan when it came sixth).
POINTS=("op node-after-receipt-before-dequeue 1 100" "op node-before-commit 1 3"
        "broker broker-mid-batch 1 400" "rcpt node-after-store-before-ack 1 8"
        "op node-after-commit 1 3" "broker broker-after-commit 1 40")
step=0 cp=0
while senders_running && [ "$(date +%s)" -lt $((deadline + 5)) ]; do
  sleep_rand 150 900
  check_deaths
  step=$((step + 1))
  if [ $((step % 2)) = 0 ]; then
    read -r who point lo hi <<< "${POINTS[$((cp % ${#POINTS[@]}))]}"
    cp=$((cp + 1))
    case $who in
      op) victim=${SENDERS[$((RANDOM % 3))]} ;;
      rcpt) victim=${RCPTS[$((RANDOM % 2))]} ;;
      *) victim=broker ;;
    esac
    [ -z "${ARMED[$victim]:-}" ] || continue
    kill9 "$victim"
    start "$victim" "$point:$(( lo + RANDOM % (hi - lo + 1) ))" || UNEXPECTED=$((UNEXPECTED + 1))
    PHASES=$((PHASES + 1))
  else
    # A random victim, down for up to 1.5 s; the broker one time in three. An armed process is
    # left alone so that it reaches its crash point.
    if [ $((RANDOM % 3)) = 0 ]; then victim=broker; else victim=${PROCS[$((1 + RANDOM % 5))]}; fi
    [ -z "${ARMED[$victim]:-}" ] || continue
    kill9 "$victim"
    sleep_rand 0 1500
    start "$victim" || UNEXPECTED=$((UNEXPECTED + 1))
  fi
done
for p in "${SPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
SPIDS=()
check_deaths
STREAM_END=$(date +%s)
cat "$T/senders"
echo "# stream took $((STREAM_END - START)) s: $KILLS random SIGKILLs, $PHASES crash-point phases"

# ---- quiescence: everyone up without crash points, late joins ----
for n in "${PROCS[@]}"; do
  if [ -n "${ARMED[$n]:-}" ]; then kill9 "$n"; start "$n" || UNEXPECTED=$((UNEXPECTED + 1)); fi
done
start late
PROCS+=(late)

cat > "$T/analyse.py" <<'EOF'
# analyse.py T MODE: MODE=progress exits 0 when quiescent; MODE=final checks.
import sqlite3, sys
T, mode = sys.argv[1], sys.argv[2]
NET = "kontum"
senders, rcpts = ["op1", "op2", "op3"], ["coord", "own", "late"]
def rows(home, sql, *a):
    con = sqlite3.connect("file:%s/%s/ledger.db?mode=ro" % (T, home), uri=True, timeout=10)
    try:
        return con.execute(sql, a).fetchall()
    finally:
        con.close()
authored = {s: rows(s, "SELECT lower(hex(message_id)), sequence FROM ledger"
                       " WHERE type = 2 AND sender = ? ORDER BY idx", "%s/%s" % (NET, s))
            for s in senders}
pending = {s: rows(s, "SELECT count(*) FROM outbox WHERE state = 'pending'")[0][0] for s in senders}
held = {}
for r in rcpts:
    held[r] = {s: [] for s in senders}
    for snd, mid, seq in rows(r, "SELECT sender, lower(hex(message_id)), sequence FROM ledger"
                                 " WHERE type = 2 ORDER BY idx"):
        s = snd.split("/", 1)[1]
        if s in held[r]:
            held[r][s].append((mid, seq))
total = sum(len(a) for a in authored.values())
if mode == "progress":
    got = {r: sum(len(v) for v in held[r].values()) for r in rcpts}
    print("authored %d, pending %s, held %s" % (total, sum(pending.values()), got))
    sys.exit(0 if sum(pending.values()) == 0 and all(g >= total for g in got.values()) else 1)

results = []  # (ok, description, detail)
def check(ok, desc, detail=""):
    results.append((ok, desc, detail))
sent = {}
for s in senders:
    ids = [l.strip() for l in open("%s/sent.%s" % (T, s)) if l.strip()]
    sent[s] = set(ids)
    check(len(ids) == len(sent[s]), "%s: every printed id is unique" % s)
    own = {m for m, _ in authored[s]}
    check(sent[s] <= own, "%s: every sent id is in its own ledger" % s,
          "%d missing" % len(sent[s] - own))
    seqs = [q for _, q in authored[s]]
    check(seqs == list(range(1, len(seqs) + 1)), "%s: its own messages have sequences 1..%d" % (s, len(seqs)))
    states = dict(rows(s, "SELECT state, count(*) FROM outbox GROUP BY state"))
    check(set(states) <= {"done"}, "%s: outbox drained, nothing refused" % s, str(states))
    print("# %s: %d sent, %d authored (%d committed but unreported), outbox %s"
          % (s, len(sent[s]), len(own), len(own - sent[s]), states))
nsent = sum(len(v) for v in sent.values())
for r in rcpts:
    delivered = lost = dup = extra = unreported = 0
    order_ok = True
    for s in senders:
        ids = [m for m, _ in held[r][s]]
        have = set(ids)
        own = {m for m, _ in authored[s]}
        delivered += len(sent[s] & have)
        lost += len(sent[s] - have) + len((own - sent[s]) - have)
        dup += len(ids) - len(have)
        extra += len(have - own)
        unreported += len((own - sent[s]) & have)
        # increasing and gap-free: exactly the author's sequence list
        if [q for _, q in held[r][s]] != [q for _, q in authored[s]]:
            order_ok = False
    print("%s: sent %d, delivered %d, lost %d, duplicated %d" % (r, nsent, delivered, lost, dup))
    if unreported:
        print("# %s also holds %d message(s) committed by an author killed before it replied" % (r, unreported))
    check(lost == 0 and delivered == nsent, "%s: every sent (and every committed) message delivered" % r,
          "lost %d" % lost)
    check(dup == 0, "%s: nothing delivered twice" % r, "duplicated %d" % dup)
    check(extra == 0, "%s: nothing else from the senders" % r, "%d unknown ids" % extra)
    check(order_ok, "%s: each sender's messages in increasing sequence order, no gap" % r)
b = rows("broker", "SELECT sender, count(*), count(DISTINCT message_id) FROM ledger WHERE type = 2"
                   " GROUP BY sender")
bc = {snd.split("/", 1)[1]: (n, d) for snd, n, d in b}
check(all(bc.get(s, (0, 0)) == (len(authored[s]), len(authored[s])) for s in senders),
      "broker ledgered every committed message exactly once", str(bc))
with open("%s/results" % T, "w") as f:
    for ok, d, det in results:
        f.write("%s\t%s\t%s\n" % ("ok" if ok else "FAIL", d, det))
EOF

quiet=0
qdeadline=$(( $(date +%s) + QUIESCE_SECONDS ))
while [ "$(date +%s)" -lt $qdeadline ]; do
  check_deaths
  if $PY "$T/analyse.py" "$T" progress > "$T/progress" 2>&1; then quiet=1; break; fi
  sleep 1
done
cat "$T/progress"
echo "# quiescent $(( $(date +%s) - STREAM_END )) s after the stream ended"
check "quiescence within ${QUIESCE_SECONDS}s (outboxes drained, every recipient holds every committed message)" \
  [ $quiet = 1 ]
sleep 1   # let the last acks and receipts land before reading everything
check "final analysis ran" $PY "$T/analyse.py" "$T" final
if [ -f "$T/results" ]; then
  while IFS=$'\t' read -r st desc det; do
    if [ "$st" = ok ]; then check "$desc" true; else echo "     $det" >&2; check "$desc" false; fi
  done < "$T/results"
fi
check "every message command printed as many ids as it asked for" [ ! -s "$T/short" ]
for p in "${POINTS[@]}"; do
  read -r who point lo hi <<< "$p"
  echo "# crash point $point fired ${FIRED[$point]:-0} time(s)"
  check "crash point $point fired at least once" [ "${FIRED[$point]:-0}" -gt 0 ]
done
check "no process died unless killed or at its crash point" eq "$UNEXPECTED" 0

# Verify every ledger with its daemon stopped (a clean stop first).
cleanup_all
check "broker ledger verifies" "$BROKER" --home "$T/broker" ledger verify
for n in "${SENDERS[@]}" "${RCPTS[@]}"; do
  check "$n ledger verifies" "$NODE" --home "$T/$n" ledger verify
done
echo "# total $(( $(date +%s) - START )) s"
finish
