#!/usr/bin/env bash
# Issue 5's end-to-end scenario: a ransomware incident on a level-4 system
# goes from the initial report to a serious classification, a coordination
# order with two tasks, progress reports, an end report (Form 04) and
# closure, routed by irnet.conf and acknowledged by every receiver; every
# node agrees on the final state and every ledger verifies. Then the rules,
# one negative test each, conflicting transitions, drills and deadlines
# (with a moved clock, never by sleeping).
. "$(dirname "$0")/common.sh"
fail_on_unexpected_errors
REPORT_TO=role:coordinator setup_network "$T" "$PORT" \
  op1:operator op2:operator own:owner coord:coordinator r1:responder r2:responder \
  steer:steering nat:national
# The plan's flow from the routing table: the operator reports to its own
# owner (by member id) and the coordinator, with copies to the steering
# committee and the national coordinator.
cat >> "$T/op1/irnet.conf" <<'EOF'
route.initial-report = kontum/own, role:coordinator, role:steering, role:national
EOF
start_broker "$T"
ALL="op1 op2 own coord r1 r2 steer nat"
HOLDERS="op1 own coord steer nat"   # the nodes holding the incident
for n in $ALL; do start_node "$T" $n; done
for n in $ALL; do wait_for 15 node_connected "$T" $n; done
py() { /usr/bin/python3 -c "$@"; }
jid() { py 'import json,sys; print(json.load(sys.stdin)["message_id"])'; }
state_at() { "$NODE" --home "$T/$1" --json incidents | py "import json,sys; print({i['id']: i['state'] for i in json.load(sys.stdin)}.get('$2','-'))"; }
all_at() { local m; for m in $HOLDERS; do [ "$(state_at $m "$1")" = "$2" ] || return 1; done; }
acked_all() { "$NODE" --home "$T/$1" acks "$2" >/dev/null; }
cat > "$T/form03.json" <<'EOF'
{ "organisation": { "name": "Sở Y tế tỉnh Kon Tum", "address": "Kon Tum", "phone": "0260 3862 000" },
  "contact": { "name": "Nguyễn Văn A", "position": "Quản trị hệ thống", "email": "a@syt.kontum.gov.vn" },
  "system": "Hệ thống thông tin bệnh viện", "security_level": 4, "category": "attack.ransomware",
  "summary": "Máy chủ cơ sở dữ liệu bị mã hóa, đòi tiền chuộc", "detected_at": "2026-11-25T07:10:00+07:00",
  "impact": { "interruption": true, "integrity": true }, "can_handle_alone": false,
  "detected_by": ["logs"], "notified": ["owner"], "confidential": true }
EOF

# ---- 1. the initial report (Form 03), routed and acknowledged ----
id=$("$NODE" --home "$T/op1" --json report --form "$T/form03.json" --person "Trần Thị B" | jid)
check "the report reaches the owner, coordinator, steering committee and national member" \
  wait_for 15 all_at "$id" reported
check "the operator's copy is computed serious (level 4, interruption, beyond the owner)" \
  sh -c "'$NODE' --home '$T/op1' --json incidents | grep -q '\"severity\": \"serious\"'"
check "routing left out who the table does not name (the other operator)" \
  sh -c "[ \"\$('$NODE' --home '$T/op2' --json incidents)\" = '[]' ]"
check "every receiver acknowledged it at once" wait_for 15 acked_all op1 "$id"
check "... the four of them, by name" \
  sh -c "'$NODE' --home '$T/op1' --json acks $id | /usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin); sys.exit(not (a[\"expected\"]==4 and sorted(x[\"member\"] for x in a[\"acknowledged\"])==[\"kontum/coord\",\"kontum/nat\",\"kontum/own\",\"kontum/steer\"]))'"
check "show names the authorised person and the local account that signed" \
  sh -c "'$NODE' --home '$T/coord' --json show $id | /usr/bin/python3 -c 'import json,sys,os; o=json.load(sys.stdin); sys.exit(not (o[\"person\"]==\"Trần Thị B\" and o[\"local_account\"]))'"
check "... and in the text form too" sh -c "'$NODE' --home '$T/coord' show $id | grep -q 'Trần Thị B'"

# ---- 2. acknowledged, classified serious, the steering committee decides ----
"$NODE" --home "$T/coord" transition "$id" --to acknowledged >/dev/null
check "the coordinator acknowledges it: every node agrees" wait_for 15 all_at "$id" acknowledged
"$NODE" --home "$T/coord" classify "$id" --severity serious --reason "Cấp độ 4, gián đoạn dịch vụ, vượt khả năng" >/dev/null
check "the coordinator classifies it serious: every node agrees" wait_for 15 all_at "$id" classified
"$NODE" --home "$T/steer" classify "$id" --severity serious --reason "Ban chỉ đạo quyết định: sự cố nghiêm trọng" >/dev/null
check "the steering committee decides; every node records who decided" \
  wait_for 15 sh -c "for m in $HOLDERS; do '$NODE' --home '$T/'\$m --json incidents | grep -q '\"classified_by\": \"kontum/steer\"' || exit 1; done"
"$NODE" --home "$T/coord" transition "$id" --to responding >/dev/null
check "the response starts: every node agrees" wait_for 15 all_at "$id" responding

# ---- 3. a coordination order (Form 06) with two tasks ----
order=$("$NODE" --home "$T/coord" --json task "$id" \
  --assign kontum/r1 --deadline 2030-01-01T17:00:00+07:00 --instructions "Cô lập máy chủ, thu thập mẫu mã độc" \
  --assign kontum/r2 --deadline 2030-01-02T17:00:00+07:00 --instructions "Khôi phục dữ liệu từ bản sao lưu" | jid)
check "both assignees receive their task" \
  wait_for 15 sh -c "'$NODE' --home '$T/r1' tasks | grep -q 'Cô lập' && '$NODE' --home '$T/r2' tasks | grep -q 'Khôi phục'"
check "each assignee acknowledged the order" wait_for 15 acked_all coord "$order"
"$NODE" --home "$T/r1" task-status "${order:0:10}" 1 accepted >/dev/null
"$NODE" --home "$T/r2" task-status "${order:0:10}" 2 accepted >/dev/null
task_state() { "$NODE" --home "$T/coord" --json tasks | py "import json,sys; print({t['number']: t['state'] for t in json.load(sys.stdin) if t['order']=='$order'}[$1])"; }
check "the coordinator sees both tasks accepted" wait_for 15 sh -c "[ \"\$($(declare -f task_state py); NODE=$NODE T=$T order=$order; task_state 1)\" = accepted ] && [ \"\$($(declare -f task_state py); NODE=$NODE T=$T order=$order; task_state 2)\" = accepted ]"
check "negative: a task update by a non-assignee is refused" \
  sh -c "! '$NODE' --home '$T/r1' task-status ${order:0:10} 2 done 2>'$T/err' && grep -q 'assigned to' '$T/err'"

# ---- 4. progress reports, plan, requests ----
p1=$("$NODE" --home "$T/r1" --json progress "${id:0:8}" --summary "Đã cô lập máy chủ" --percent 40 --contained | jid)
p2=$("$NODE" --home "$T/op1" --json progress "$id" --summary "Dịch vụ khám bệnh chạy tạm trên giấy" --actions "Ngắt mạng" | jid)
check "the responder's progress report reaches the coordinator, typed" \
  wait_for 15 sh -c "'$NODE' --home '$T/coord' --json show $p1 | grep -q '\"percent_done\": 40'"
check "the operator's progress report reaches its owner and the national member" \
  wait_for 15 sh -c "'$NODE' --home '$T/own' show $p2 >/dev/null && '$NODE' --home '$T/nat' show $p2 >/dev/null"
check "both progress reports were acknowledged" wait_for 15 sh -c "'$NODE' --home '$T/r1' acks $p1 >/dev/null && '$NODE' --home '$T/op1' acks $p2 >/dev/null"
cat > "$T/plan.json" <<'EOF'
{ "objective": "Khôi phục hệ thống trong 48 giờ",
  "steps": [ { "action": "Cô lập", "assignee": "kontum/r1" },
             { "action": "Khôi phục", "assignee": "kontum/r2", "due": "2026-11-27T17:00:00+07:00" } ] }
EOF
pl=$("$NODE" --home "$T/own" --json plan "$id" --form "$T/plan.json" --resources "Tổ kỹ thuật của Sở" | jid)
dr=$("$NODE" --home "$T/own" --json direction "$id" --question "Có trả tiền chuộc không?" --option "Không trả" --option "Báo công an" | jid)
su=$("$NODE" --home "$T/own" --json support "$id" --needed "Chuyên gia phân tích mã độc" --from national --reason "Vượt khả năng" | jid)
check "plan, request for direction and support request reach the coordinator" \
  wait_for 15 sh -c "for x in $pl $dr $su; do '$NODE' --home '$T/coord' show \$x >/dev/null || exit 1; done"
check "... the plan's steps, typed" sh -c "'$NODE' --home '$T/coord' --json show $pl | grep -q '\"assignee\": \"kontum/r2\"'"
check "negative: a bad form is refused with a clear error" \
  sh -c "! '$NODE' --home '$T/own' support $id --needed x --from mars 2>'$T/err' && grep -q 'provincial' '$T/err'"

check "negative: a typed kind sent as text through 'message' is refused" \
  sh -c "! '$NODE' --home '$T/op1' message --kind progress-report --text 'x' 2>'$T/err' && grep -q 'typed form' '$T/err'"
check "every workflow command has --help" \
  sh -c "for c in progress plan direction support end-report alert ack acks alerts drill; do '$NODE' \$c --help | grep -q 'usage: irnet-node' || exit 1; done"

# ---- 5. alerts to a role group, acknowledged by each receiver ----
al=$("$NODE" --home "$T/coord" --json alert --level warning --title "Cảnh báo mã độc tống tiền" \
  --text "Chặn các địa chỉ sau" --indicator 203.0.113.7 --to role:operator,role:owner | jid)
check "the alert reaches the operators and the owner" \
  wait_for 15 sh -c "for m in op1 op2 own; do '$NODE' --home '$T/'\$m alerts | grep -q 'Cảnh báo mã độc' || exit 1; done"
check "the coordinator sees 3/3 acknowledged" wait_for 15 sh -c "'$NODE' --home '$T/coord' alerts | grep '$(echo ${al:0:8})' | grep -q '3/3'"
check "negative: an operator may not send an alert" \
  sh -c "! '$NODE' --home '$T/op1' alert --level advisory --title x --text y 2>/dev/null"

# ---- 6. the end of the response: Form 04, then closure ----
check "negative: close without the end report (no such edge from responding)" \
  sh -c "! '$NODE' --home '$T/coord' transition $id --to closed --reason x 2>/dev/null"
"$NODE" --home "$T/r1" task-status "${order:0:10}" 1 done --note "Xong" >/dev/null
"$NODE" --home "$T/r2" task-status "${order:0:10}" 2 done --note "Đã khôi phục" >/dev/null
end=$("$NODE" --home "$T/op1" --json end-report "$id" --outcome "Đã khôi phục toàn bộ dữ liệu" \
  --cause "Mật khẩu yếu trên RDP" --damage-vnd 150000000 --lessons "Tắt RDP ra Internet" \
  --handling with-help --national-help | jid)
check "the end report resolves the incident at every node" wait_for 15 all_at "$id" resolved
check "... linked to the initial report (its id and date)" \
  sh -c "'$NODE' --home '$T/nat' --json show $end | /usr/bin/python3 -c 'import json,sys; p=json.load(sys.stdin)[\"payload\"]; sys.exit(not (p[\"incident\"]==\"$id\" and p[\"initial_reported_at\"] and p[\"handling\"]==\"with-help\"))'"
check "every receiver acknowledged the end report" wait_for 15 acked_all op1 "$end"
check "negative: the reporter may not close" \
  sh -c "! '$NODE' --home '$T/op1' transition $id --to closed --reason x 2>'$T/err' && grep -q 'may not' '$T/err'"
"$NODE" --home "$T/coord" transition "$id" --to closed --reason "Đã nhận báo cáo kết thúc" >/dev/null
check "the coordinator closes it: every node agrees" wait_for 15 all_at "$id" closed
life() { "$NODE" --home "$T/$1" --json show "$id" | /usr/bin/python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["state"], [(t["from"], t["to"], "refusal" in t) for t in o["lifecycle"]])'; }
check "every holder shows the same state and lifecycle" \
  sh -c "$(declare -f life py); NODE=$NODE T=$T id=$id; a=\$(life op1); for m in $HOLDERS; do [ \"\$(life \$m)\" = \"\$a\" ] || exit 1; done"

# ---- 7. end report without an initial report ----
# A second incident goes to the coordinator only; its end report then
# reaches members that never held the initial report: each refuses it.
id2=$("$NODE" --home "$T/op1" --json report --form "$T/form03.json" --to role:coordinator | jid)
wait_for 15 sh -c "'$NODE' --home '$T/coord' incidents | grep -q $id2"
check "negative: locally, an end report for an incident known only from a task is refused" \
  sh -c "'$NODE' --home '$T/coord' task $id2 --assign kontum/op2 --deadline 2030-01-01T00:00:00Z --instructions 'Kiểm tra' >/dev/null &&
         $(declare -f wait_for); wait_for 15 sh -c \"'$NODE' --home '$T/op2' tasks | grep -q Kiểm\" &&
         ! '$NODE' --home '$T/op2' end-report ${id2:0:10} --outcome x --handling self 2>'$T/err' &&
         grep -q 'end report without an initial report' '$T/err'"
e2=$("$NODE" --home "$T/coord" --json end-report "$id2" --outcome "Không phải sự cố" --handling self | jid)
check "negative: every receiver without the initial report refuses the end report" \
  wait_for 15 sh -c "for m in own steer nat; do '$NODE' --home '$T/'\$m events | grep -q 'end report without an initial report' || exit 1; done"
check "... stores no incident for it and does not acknowledge it" \
  sh -c "[ \"\$('$NODE' --home '$T/own' --json incidents | grep -c $id2)\" = 0 ] && '$NODE' --home '$T/coord' --json acks $e2 | /usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin); sys.exit(not (sorted(x[\"member\"] for x in a[\"waiting\"])==[\"kontum/nat\",\"kontum/own\",\"kontum/steer\"]))'"
check "... while the reporter, who holds it, acknowledged it" \
  wait_for 15 sh -c "'$NODE' --home '$T/coord' --json acks $e2 | /usr/bin/python3 -c 'import json,sys; sys.exit(not [x for x in json.load(sys.stdin)[\"acknowledged\"] if x[\"member\"]==\"kontum/op1\"])'"

# ---- 8. conflicting transitions from two members, ordered by the broker ----
id3=$("$NODE" --home "$T/op1" --json report --form "$T/form03.json" | jid)
check "a third incident reaches every holder" wait_for 15 all_at "$id3" reported
"$NODE" --home "$T/coord" classify "$id3" --severity serious --reason "Nghiêm trọng" >/dev/null
wait_for 15 all_at "$id3" classified
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true
"$NODE" --home "$T/coord" transition "$id3" --to responding > "$T/c1.out" 2>&1
"$NODE" --home "$T/nat" transition "$id3" --to merged --merged-into "$id" --reason "Cùng một vụ tấn công" > "$T/c2.out" 2>&1
start_broker "$T"
settled() { local m s; for m in $HOLDERS; do s=$(state_at $m "$id3"); [ "$s" = responding ] || [ "$s" = merged ] || return 1; done
            local a; a=$(state_at coord "$id3"); for m in $HOLDERS; do [ "$(state_at $m "$id3")" = "$a" ] || return 1; done; }
check "conflicting transitions: every node reaches the same state" wait_for 20 settled
check "... and every node refused the later one" \
  wait_for 10 sh -c "for m in $HOLDERS; do '$NODE' --home '$T/'\$m --json show $id3 | grep -q 'no longer in the state' || exit 1; done"

# ---- 8b. resolved by a transition: closing still waits for Form 04 ----
id4=$("$NODE" --home "$T/op1" --json report --form "$T/form03.json" | jid)
wait_for 15 all_at "$id4" reported
"$NODE" --home "$T/coord" classify "$id4" --severity normal --reason "Bình thường" >/dev/null
wait_for 15 all_at "$id4" classified
"$NODE" --home "$T/coord" transition "$id4" --to responding >/dev/null
wait_for 15 all_at "$id4" responding
"$NODE" --home "$T/own" transition "$id4" --to resolved >/dev/null
check "the owner resolves the fourth incident: every node agrees" wait_for 15 all_at "$id4" resolved
check "negative: the coordinator may not close it without the end report" \
  sh -c "! '$NODE' --home '$T/coord' transition $id4 --to closed --reason x 2>'$T/err' && grep -q 'end-of-response report' '$T/err'"
check "... and the end-of-response report is due (injected clock, 6 days later)" \
  sh -c "IRNET_CLOCK_OFFSET_MS=518400000 '$NODE' --home '$T/op1' --json due | /usr/bin/python3 -c 'import json,sys; sys.exit(not any(d[\"what\"]==\"end-of-response report\" and d[\"ref\"]==\"$id4\" and d[\"overdue\"] for d in json.load(sys.stdin)))'"
"$NODE" --home "$T/op1" end-report "$id4" --outcome "Đã xử lý" --handling self >/dev/null
check "an end report for a resolved incident is applied (state stays resolved)" \
  wait_for 15 sh -c "for m in $HOLDERS; do '$NODE' --home '$T/'\$m --json show $id4 | grep -q '\"end_report\": true' || exit 1; done"
check "... and is no longer due" \
  sh -c "IRNET_CLOCK_OFFSET_MS=518400000 '$NODE' --home '$T/op1' --json due | /usr/bin/python3 -c 'import json,sys; sys.exit(any(d[\"ref\"]==\"$id4\" for d in json.load(sys.stdin)))'"
"$NODE" --home "$T/coord" transition "$id4" --to closed --reason "Đã nhận báo cáo kết thúc" >/dev/null
check "... and then the close applies at every node" wait_for 15 all_at "$id4" closed

# ---- 9. drills ----
"$NODE" --home "$T/op2" drill start "Diễn tập ứng cứu 2026" >/dev/null
check "a drill is running at op2" sh -c "'$NODE' --home '$T/op2' drill status | grep -q 'Diễn tập'"
dx=$("$NODE" --home "$T/op2" --json report --form "$T/form03.json" | jid)
"$NODE" --home "$T/op2" drill stop >/dev/null
rx=$("$NODE" --home "$T/op2" --json report --form "$T/form03.json" | jid)
ex_at() { "$NODE" --home "$T/coord" --json incidents | py "import json,sys; print({i['id']: i['exercise'] for i in json.load(sys.stdin)}.get('$1','-'))"; }
check "the drill report arrives marked as an exercise" wait_for 15 sh -c "[ \"\$($(declare -f ex_at py); NODE=$NODE T=$T; ex_at $dx)\" = True ]"
check "negative: the report after the drill is real, not counted as a drill" \
  wait_for 15 sh -c "[ \"\$($(declare -f ex_at py); NODE=$NODE T=$T; ex_at $rx)\" = False ]"
check "the exercise flag is stored in the incidents table (for Form 05 statistics)" \
  sh -c "[ \"\$(sqlite3 '$T/coord/ledger.db' \"SELECT exercise FROM incidents WHERE lower(hex(message_id)) = '$dx'\")\" = 1 ]"
check "every display marks it: incidents" sh -c "'$NODE' --home '$T/coord' incidents | grep $dx | grep -q 'DIỄN TẬP / EXERCISE'"
check "... and show" sh -c "'$NODE' --home '$T/coord' show $dx | grep -q 'DIỄN TẬP / EXERCISE'"
ex_of() { "$NODE" --home "$T/$1" --json show "$2" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["exercise"])'; }
c1=$("$NODE" --home "$T/coord" --json classify "$dx" --severity normal --reason "Diễn tập" | jid)
check "the coordinator, running no drill, classifies the drill incident: its decision is drill traffic" \
  eq "$(ex_of coord "$c1")" True
"$NODE" --home "$T/coord" drill start "Diễn tập khác" >/dev/null
c2=$("$NODE" --home "$T/coord" --json classify "$rx" --severity normal --reason "Sự cố thật" | jid)
c3=$("$NODE" --home "$T/coord" --json alert --level advisory --title "Bài diễn tập" --text "Không phải thật" --to role:owner | jid)
"$NODE" --home "$T/coord" drill stop >/dev/null
check "negative: during a drill, a decision on a real incident stays real" eq "$(ex_of coord "$c2")" False
check "... while the drill's own alert is marked" eq "$(ex_of coord "$c3")" True
check "... and shown so at its receivers" \
  wait_for 15 sh -c "'$NODE' --home '$T/own' alerts | grep 'Bài diễn tập' | grep -q 'DIỄN TẬP / EXERCISE'"
# A drill never changes a real incident: the sender refuses an end report
# forced to drill traffic (--exercise) about the real incident; sent anyway
# (a raw payload; an older node), it is kept, never applied.
check "the real incident is classified at its reporter" wait_for 15 sh -c "[ \"\$($(declare -f state_at py); NODE=$NODE T=$T; state_at op2 $rx)\" = classified ]"
check "negative: the sender refuses a drill end report of a real incident" \
  sh -c "! '$NODE' --home '$T/op2' end-report $rx --outcome 'Diễn tập: đã xử lý' --handling self --exercise 2>/dev/null"
"$NODE" --home "$T/op2" message --kind end-report --to role:coordinator --exercise --payload-hex \
  "$(/usr/bin/python3 "$(dirname "$0")/../tools/pbenc.py" end-report "$rx" kontum/op2 \
     "$(sql "$T/op2/ledger.db" "select reported_ms from incidents where lower(hex(message_id)) = '$rx'")" \
     "Diễn tập: đã xử lý" 1 "$(date +%s)000")" >/dev/null
check "negative: a drill end report of a real incident is not applied at the receivers" \
  wait_for 15 sh -c "'$NODE' --home '$T/coord' events | grep -q 'exercise-mismatch'"
check "... the real incident stays classified there" eq "$(state_at coord "$rx")" classified
check "... and at its sender" eq "$(state_at op2 "$rx")" classified
check "acknowledgements of a drill message carry the flag" \
  wait_for 15 sh -c "a=\$(sqlite3 '$T/op2/ledger.db' \"SELECT lower(hex(ack_id)) FROM expected_acks WHERE lower(hex(message_id)) = '$dx' AND member = 'kontum/coord'\"); [ -n \"\$a\" ] && '$NODE' --home '$T/op2' --json show \$a | grep -q '\"exercise\": true'"

# ---- 10. deadlines, with a moved clock ----
# nat stops answering: what it should acknowledge stays unacknowledged
kill "${PIDS[8]}"; wait "${PIDS[8]}" 2>/dev/null || true
a2=$("$NODE" --home "$T/coord" --json alert --level advisory --title "Khuyến nghị vá lỗi" --text "Cập nhật bản vá" --to role:national | jid)
check "an unacknowledged alert is due soon at its author" \
  wait_for 10 sh -c "'$NODE' --home '$T/coord' due | grep ${a2:0:10} | grep -q 'kontum/nat'"
check "... and overdue two hours later (injected clock)" \
  sh -c "IRNET_CLOCK_OFFSET_MS=7200000 '$NODE' --home '$T/coord' --json due | /usr/bin/python3 -c 'import json,sys; sys.exit(not any(d[\"ref\"]==\"$a2\" and d[\"overdue\"] for d in json.load(sys.stdin)))'"
check "acks lists who has not acknowledged yet" \
  sh -c "! '$NODE' --home '$T/coord' acks $a2 > '$T/acks.out' && grep kontum/nat '$T/acks.out' | grep -q 'NOT YET'"

# ---- 11. the same state everywhere, and again from the ledgers alone ----
hash_of() { "$NODE" --home "$T/$1" state-hash "$id"; }
h0=$(hash_of coord)
same=1; for n in $HOLDERS; do [ "$(hash_of $n)" = "$h0" ] || { echo "     $n: $(hash_of $n) != coord $h0" >&2; same=0; }; done
check "the ransomware incident has the same state hash at every node that holds it" [ $same = 1 ]
before=(); for n in $ALL; do before+=("$("$NODE" --home "$T/$n" state-hash)"); done
i=0; rebuilt=1
for n in $ALL; do
  if [ "$n" = nat ]; then i=$((i + 1)); continue; fi   # stopped above for the deadline checks
  "$NODE" --home "$T/$n" rebuild >/dev/null || { echo "     $n: rebuild failed" >&2; rebuilt=0; }
  after=$("$NODE" --home "$T/$n" state-hash)
  [ "$after" = "${before[$i]}" ] || { echo "     $n: state hash ${before[$i]} before, $after after the rebuild" >&2; rebuilt=0; }
  i=$((i + 1))
done
check "every running node drops its derived tables, replays its ledger and reaches the same whole-node state hash" [ $rebuilt = 1 ]
same=1; for n in $HOLDERS; do [ "$n" = nat ] || [ "$(hash_of $n)" = "$h0" ] || same=0; done
check "... and the incident's hash still agrees across the nodes after the rebuilds" [ $same = 1 ]

for n in $ALL; do check "$n ledger verifies" "$NODE" --home "$T/$n" ledger verify; done
finish
