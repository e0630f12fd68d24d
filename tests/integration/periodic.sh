#!/usr/bin/env bash
# Form 05, the periodic report, from the ledger with exact counts: per
# category, handled by self / with help / foreign help, national help
# requested, not finished, damage; the last end report counts; drills,
# incidents outside the period and merged ones are kept out.
. "$(dirname "$0")/common.sh"
fail_on_unexpected_errors
PBENC="$(dirname "$0")/../tools/pbenc.py"
REPORT_TO=role:coordinator,role:owner setup_network "$T" "$PORT" \
  op1:operator op2:operator coord:coordinator own:owner
start_broker "$T"
for n in op1 op2 coord own; do start_node "$T" $n; done
for n in op1 op2 coord own; do wait_for 15 node_connected "$T" $n; done
jid() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["message_id"])'; }
rep() { # NODE CATEGORY DETECTED [extra...]
  local n=$1 cat=$2 det=$3; shift 3
  "$NODE" --home "$T/$n" --json report --system "Hệ thống $cat" --security-level 3 --category "$cat" \
    --summary "Sự cố $cat" --organisation "Tổ chức $n" --detected-at "$det" --wait 15 "$@" | jid
}
endrep() { # NODE INCIDENT HANDLING(1 self, 2 with help, 3 foreign help) [--damage-vnd N] [--national] [--exercise]
  local n=$1 inc=$2 h=$3; shift 3
  local how=(x self with-help foreign-help) args=()
  local x; for x in "$@"; do [ "$x" = --national ] && args+=(--national-help) || args+=("$x"); done
  "$NODE" --home "$T/$n" end-report "$inc" --to role:coordinator --outcome "Đã xử lý xong" \
    --handling "${how[$h]}" --ended-at 2026-06-16T00:00:00Z "${args[@]}" >/dev/null
}
# In the period (first half of 2026). An end report counts when it comes
# from the incident's reporter, its owner or a coordinator.
a=$(rep op1 attack.ransomware 2026-03-10T09:00:00+07:00)   # two end reports: the last (self) counts
b=$(rep op2 attack.ransomware 2026-04-02T10:00:00+07:00)   # with help, national help requested
c=$(rep op1 attack.phishing 2026-05-20T08:00:00+07:00)     # no end report: not finished
d=$(rep op2 fault.power 2026-06-30T23:30:00+07:00)         # foreign help; last day of the period
e=$(rep op1 attack.ransomware 2026-02-01T08:00:00+07:00 --exercise)  # a drill: never counted
m=$(rep op2 attack.malware 2026-05-01T08:00:00+07:00)      # merged into b: not counted
# Outside the period:
f=$(rep op1 attack.malware 2026-07-01T00:30:00+07:00)
g=$(rep op2 disaster.flood 2025-12-31T23:00:00+07:00)
endrep op1 "$a" 2 --damage-vnd 5
endrep op1 "$a" 1 --damage-vnd 1000000
endrep op2 "$b" 2 --damage-vnd 2500000 --national
endrep op2 "$d" 3
endrep op1 "$e" 1 --damage-vnd 999999999 --exercise
endrep op1 "$f" 1 --damage-vnd 7
endrep op2 "$g" 1 --damage-vnd 7
refused() { ! "$@" 2>/dev/null; }
check "an operator that does not hold op1's incident cannot send an end report for it" \
  refused endrep op2 "$c" 1 --damage-vnd 42
check "an --exercise end report about a real incident is refused at its sender" \
  refused endrep op2 "$d" 1 --damage-vnd 9 --exercise
# A drill's end report does not end a real incident, even from a sender that
# skips that check (a raw payload; an older node): kept, never applied.
"$NODE" --home "$T/op2" message --kind end-report --to role:coordinator --exercise --payload-hex \
  "$(/usr/bin/python3 "$PBENC" end-report "$d" kontum/op2 \
     "$(sql "$T/op2/ledger.db" "select reported_ms from incidents where lower(hex(message_id)) = '$d'")" \
     "Đã xử lý xong" 1 "$(date -d 2026-06-16T00:00:00Z +%s)000" --damage-vnd 9)" >/dev/null
"$NODE" --home "$T/coord" transition "$m" --to merged --merged-into "$b" --reason "Trùng với sự cố $b" >/dev/null
check "the coordinator holds 8 reports and 8 end reports" wait_for 20 sh -c "[ \$(sqlite3 '$T/coord/ledger.db' 'select count(*) from ledger where type=2 and kind in (1,6)') = 16 ]"
check "... and the merge" wait_for 15 sh -c "'$NODE' --home '$T/coord' incidents | grep $m | grep -q merged"

"$NODE" --home "$T/coord" periodic --from 2026-01-01 --to 2026-06-30 --format json > "$T/p.json"
check "JSON: exact counts per category, totals, drills apart" /usr/bin/python3 - "$T/p.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
cats = {c["category"]: c for g in o["groups"] for c in g["categories"]}
def same(got, want, what):
    got = {k: got[k] for k in want}
    assert got == want, "%s: got %s, want %s" % (what, got, want)
same(cats["attack.ransomware"], dict(incidents=2, handled_self=1, handled_with_help=1, handled_foreign_help=0,
     national_help_requested=1, not_finished=0, damage_vnd=3500000), "ransomware")
same(cats["attack.phishing"], dict(incidents=1, handled_self=0, not_finished=1, damage_vnd=0), "phishing")
same(cats["fault.power"], dict(incidents=1, handled_foreign_help=1, not_finished=0), "power")
same(cats["attack.malware"], dict(incidents=0), "malware (merged, and one outside the period)")
same(cats["disaster.flood"], dict(incidents=0), "flood (outside the period)")
same(o["total"], dict(incidents=4, handled_self=1, handled_with_help=1, handled_foreign_help=1,
     national_help_requested=1, not_finished=1, damage_vnd=3500000), "total")
assert o["excluded_drills"] == 1, o["excluded_drills"]
assert o["excluded_merged_or_withdrawn"] == 1, o["excluded_merged_or_withdrawn"]
groups = {g["group"]: g["total"]["incidents"] for g in o["groups"]}
assert groups == {"attack": 3, "fault": 1, "error": 0, "disaster": 0}, groups
assert len(cats) == 25
PY
"$NODE" --home "$T/coord" periodic --from 2026-01-01 --to 2026-06-30 --format csv > "$T/p.csv"
check "CSV: a header and one line per category, plus total and drills" eq "$(wc -l < "$T/p.csv")" 28
check "... the ransomware line" grep -qx 'attack,attack.ransomware,"Tấn công mạng: mã hóa phần mềm, dữ liệu, thiết bị (mã hóa dữ liệu đòi tiền chuộc)",2,1,1,0,1,0,3500000' "$T/p.csv"
check "... the total line" grep -q '^total,total,"Tổng cộng",4,1,1,1,1,1,3500000$' "$T/p.csv"
check "... the drills line" grep -q '^excluded,drills,"Sự cố diễn tập (không tính)",1,' "$T/p.csv"
"$NODE" --home "$T/coord" periodic --from 2026-01-01 --to 2026-06-30 > "$T/p.txt"
check "text: Form 05 in Vietnamese, with the drill count" sh -c "grep -q 'MẪU 05 - BÁO CÁO ĐỊNH KỲ' '$T/p.txt' && grep -q 'Sự cố diễn tập, không tính: 1' '$T/p.txt'"
check "... the ransomware row, damage with Vietnamese separators" grep -qE '^ +2 +1 +1 +0 +1 +0 +3\.500\.000  +Tấn công mạng: mã hóa' "$T/p.txt"
check "... English with --lang en" sh -c "'$NODE' --home '$T/coord' periodic --from 2026-01-01 --to 2026-06-30 --lang en | grep -qE '^ +4 +1 +1 +1 +1 +1 +3,500,000  Total'"
check "a period that ends on 2026-06-29 leaves out the power fault of 30 June" sh -c "'$NODE' --home '$T/coord' --json periodic --from 2026-01-01 --to 2026-06-29 | grep -q '\"excluded_drills\": 1' && [ \$('$NODE' --home '$T/coord' --json periodic --from 2026-01-01 --to 2026-06-29 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[\"total\"][\"incidents\"])') = 3 ]"
check "the second half-year: the malware incident of 1 July" sh -c "[ \$('$NODE' --home '$T/coord' --json periodic --from 2026-07-01 --to 2026-12-31 | /usr/bin/python3 -c 'import json,sys; o=json.load(sys.stdin); print(o[\"total\"][\"incidents\"], o[\"total\"][\"handled_self\"], o[\"total\"][\"damage_vnd\"])' | tr ' ' _) = 1_1_7 ]"
# Any node reports over what it holds: op1 holds its own reports only
"$NODE" --home "$T/op1" --json periodic --from 2026-01-01 --to 2026-06-30 > "$T/op1.json"
check "at an operator: its own incidents (ransomware self 1,000,000; phishing not finished; 1 drill)" /usr/bin/python3 - "$T/op1.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
t = o["total"]
assert (t["incidents"], t["handled_self"], t["not_finished"], t["damage_vnd"]) == (2, 1, 1, 1000000), t
assert o["excluded_drills"] == 1
PY
check "bad period refused (usage error 2)" sh -c "'$NODE' --home '$T/coord' periodic --from 2026-07-01 --to 2026-01-01 2>/dev/null; [ \$? = 2 ]"
check "bad format refused" sh -c "'$NODE' --home '$T/coord' periodic --from 2026-01-01 --to 2026-06-30 --format xml 2>/dev/null; [ \$? = 2 ]"
check "after a rebuild the report is the same" sh -c "'$NODE' --home '$T/coord' rebuild >/dev/null && '$NODE' --home '$T/coord' periodic --from 2026-01-01 --to 2026-06-30 --format csv | cmp -s - '$T/p.csv'"
finish
