# Shared shell helpers for the demo and the integration tests.
# Everything listens on 127.0.0.1 only; every wait is bounded.

: "${BIN:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}"
KEYS="$BIN/irnet-keys"; BROKER="$BIN/irnet-broker"; NODE="$BIN/irnet-node"
PIDS=()

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cleanup_all() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  PIDS=()
}

# wait_for SECONDS COMMAND...: retry COMMAND every 0.1 s until it succeeds.
wait_for() {
  local t=$1; shift
  local _n=$((t * 10))
  while [ $_n -gt 0 ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1; _n=$((_n - 1))
  done
  echo "timed out after ${t}s waiting for: $*" >&2
  return 1
}

# setup_network DIR PORT MEMBER:ROLES... : authority, broker and nodes, roster imported.
setup_network() {
  local dir=$1 port=$2; shift 2
  NET=${NET:-kontum}
  mkdir -p "$dir"
  AUTH_PK=$("$KEYS" authority-init --dir "$dir/authority")
  "$BROKER" --home "$dir/broker" init --id "$NET/broker" --network "$NET" \
    --authority-key "$AUTH_PK" --listen "tcp://127.0.0.1:$port" > "$dir/broker.json"
  "$KEYS" roster-add --roster "$dir/roster.json" --network "$NET" --request "$dir/broker.json" \
    --roles broker --name "Provincial broker" --org "Sở TT&TT" --endpoint "tcp://127.0.0.1:$port" >/dev/null
  local spec name roles
  for spec in "$@"; do
    name=${spec%%:*}; roles=${spec#*:}
    "$NODE" --home "$dir/$name" init --id "$NET/$name" --network "$NET" --authority-key "$AUTH_PK" \
      --broker "tcp://127.0.0.1:$port" --broker-id "$NET/broker" --person "Cán bộ $name" \
      --report-to "${REPORT_TO:-role:coordinator,role:owner}" > "$dir/$name.json"
    "$KEYS" roster-add --roster "$dir/roster.json" --request "$dir/$name.json" --roles "$roles" \
      --name "$name" --org "Tổ chức $name" >/dev/null
  done
  "$KEYS" roster-sign --authority "$dir/authority" --roster "$dir/roster.json" --out "$dir/roster.bin" >/dev/null
  "$BROKER" --home "$dir/broker" roster-import "$dir/roster.bin" >/dev/null
  for spec in "$@"; do
    "$NODE" --home "$dir/${spec%%:*}" roster-import "$dir/roster.bin" >/dev/null
  done
}

start_broker() { # DIR
  "$BROKER" --home "$1/broker" run > "$1/broker.out" 2> "$1/broker.log" &
  PIDS+=($!)
  wait_for 10 grep -q READY "$1/broker.out"
}

start_node() { # DIR NAME
  "$NODE" --home "$1/$2" run > "$1/$2.out" 2> "$1/$2.log" &
  PIDS+=($!)
  wait_for 10 grep -q READY "$1/$2.out"
}

node_connected() { # DIR NAME
  "$NODE" --home "$1/$2" --json status | grep -q '"connected": true'
}
