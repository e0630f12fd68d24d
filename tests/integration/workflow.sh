#!/usr/bin/env bash
# The incident lifecycle across nodes: every node checks every change for
# itself, applies them in the broker's order, and all reach the same state;
# conflicting changes resolve the same way everywhere.
. "$(dirname "$0")/common.sh"
REPORT_TO=role:coordinator,role:owner,role:national setup_network "$T" "$PORT" \
  op:operator own:owner coord:coordinator nat:national r1:responder r2:responder
start_broker "$T"
ALL="op own coord nat"
for n in r1 r2; do start_node "$T" $n; done
for n in $ALL; do start_node "$T" $n; done
for n in $ALL; do wait_for 15 node_connected "$T" $n; done
state_at() { "$NODE" --home "$T/$1" --json incidents | /usr/bin/python3 -c "import json,sys; print({i['id']: i['state'] for i in json.load(sys.stdin)}.get('$2','-'))"; }
all_at() { local m; for m in $ALL; do [ "$(state_at $m "$1")" = "$2" ] || return 1; done; }

id=$("$NODE" --home "$T/op" --json report --system "Cổng dịch vụ công" --security-level 4 \
  --category attack.ransomware --summary "Mã hóa dữ liệu" --organisation "Sở Y tế" \
  --detected-at 2026-11-25T07:00:00+07:00 --wait 15 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["message_id"])')
check "every node holds the incident as reported" wait_for 15 all_at "$id" reported

check "an operator may not classify" sh -c "! '$NODE' --home '$T/op' classify $id --severity serious --reason x 2>'$T/err' && grep -q 'may not' '$T/err'"
check "a classification without a reason is refused" sh -c "! '$NODE' --home '$T/coord' classify $id --severity serious 2>/dev/null"
"$NODE" --home "$T/coord" transition "$id" --to acknowledged >/dev/null
check "the coordinator acknowledges: every node agrees" wait_for 15 all_at "$id" acknowledged
"$NODE" --home "$T/coord" classify "$id" --severity serious --reason "Cấp độ 4, gián đoạn dịch vụ, vượt khả năng của chủ quản" >/dev/null
check "it classifies it serious: every node agrees" wait_for 15 all_at "$id" classified
check "... with who decided and why" sh -c "'$NODE' --home '$T/op' --json incidents | grep -q '\"classified_by\": \"kontum/coord\"'"
check "an invalid change is refused with a reason" \
  sh -c "! '$NODE' --home '$T/coord' transition $id --to closed --reason x 2>'$T/err' && grep -q 'no such change' '$T/err'"

# Two members move the incident from the same state at the same time: while
# the broker is down both changes are signed against "classified" and queued;
# when it returns it orders them, and every node refuses the second alike.
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true
"$NODE" --home "$T/coord" transition "$id" --to responding > "$T/t1.out" 2>&1 || true
"$NODE" --home "$T/nat" transition "$id" --to merged --merged-into "$(printf 'ab%.0s' $(seq 16))" \
  --reason "Trùng với sự cố khác" > "$T/t2.out" 2>&1 || true
check "both conflicting changes were signed and queued" sh -c "grep -q signed '$T/t1.out' && grep -q signed '$T/t2.out'"
start_broker "$T"
settled() { local m s; for m in $ALL; do s=$(state_at $m "$id"); [ "$s" = responding ] || [ "$s" = merged ] || return 1; done
            [ "$(state_at op "$id")" = "$(state_at coord "$id")" ] && [ "$(state_at own "$id")" = "$(state_at nat "$id")" ] &&
            [ "$(state_at op "$id")" = "$(state_at nat "$id")" ]; }
check "conflicting changes: every node reaches the same state" wait_for 15 settled
check "... and refuses the later one, with the reason" \
  wait_for 10 sh -c "'$NODE' --home '$T/own' show $id | grep -q 'REFUSED: the incident is no longer in the state it names'"
final=$(state_at coord "$id")
if [ "$final" = responding ]; then
  "$NODE" --home "$T/own" transition "$id" --to resolved >/dev/null
  check "the owner resolves it" wait_for 15 all_at "$id" resolved
  check "closing without the end report (Form 04) is refused" \
    sh -c "! '$NODE' --home '$T/coord' transition $id --to closed --reason x 2>'$T/err' && grep -q 'end-of-response report' '$T/err'"
  "$NODE" --home "$T/op" end-report "$id" --outcome "Đã khôi phục từ bản sao lưu" --handling with-help >/dev/null
  check "the coordinator holds the end report" wait_for 15 sh -c "'$NODE' --home '$T/coord' --json show $id | grep -q '\"end_report\": true'"
  "$NODE" --home "$T/coord" transition "$id" --to closed --reason "Đã nhận báo cáo kết thúc" >/dev/null
  check "the coordinator closes it: every node agrees" wait_for 15 all_at "$id" closed
fi

# Form 06: a coordination order with two tasks, answered by the assignees.
id2=$("$NODE" --home "$T/op" --json report --system "Hệ thống thư điện tử" --security-level 3 \
  --category attack.phishing --summary "Thư giả mạo" --organisation "Sở Y tế" \
  --detected-at 2026-11-25T08:00:00+07:00 --wait 15 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["message_id"])')
check "the coordinator holds the second incident" wait_for 15 sh -c "'$NODE' --home '$T/coord' incidents | grep -q $id2"
"$NODE" --home "$T/coord" task "$id2" --assign kontum/r1 --deadline 2030-01-01T17:00:00+07:00 \
  --instructions "Thu thập nhật ký máy chủ thư" --assign kontum/r2 --deadline 2026-01-01T17:00:00+07:00 \
  --instructions "Chặn tên miền giả mạo" >/dev/null
tasks_at() { "$NODE" --home "$T/$1" --json tasks; }
check "each assignee receives the coordination order" \
  wait_for 15 sh -c "'$NODE' --home '$T/r1' tasks | grep -q 'Thu thập' && '$NODE' --home '$T/r2' tasks | grep -q 'Chặn'"
order=$(tasks_at r1 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["order"])')
check "a task past its deadline shows as OVERDUE" sh -c "'$NODE' --home '$T/coord' tasks | grep 'Chặn' | grep -q OVERDUE"
"$NODE" --home "$T/r1" task-status "$order" 1 accepted >/dev/null
"$NODE" --home "$T/r2" task-status "$order" 2 done --note "Đã chặn trên tường lửa" >/dev/null
st() { tasks_at coord | /usr/bin/python3 -c "import json,sys; print({t['number']: t['state'] for t in json.load(sys.stdin) if t['order']=='$order'}[$1])"; }
check "the coordinator sees task 1 accepted" wait_for 15 sh -c "[ \"\$($(declare -f st tasks_at); NODE=$NODE; T=$T; order=$order; st 1)\" = accepted ]"
check "... and task 2 done" wait_for 15 sh -c "[ \"\$($(declare -f st tasks_at); NODE=$NODE; T=$T; order=$order; st 2)\" = done ]"
check "an assignee may not answer another's task" sh -c "! '$NODE' --home '$T/r1' task-status $order 2 declined 2>/dev/null"
check "a responder may not issue a coordination order" sh -c "! '$NODE' --home '$T/r1' task $id2 --assign kontum/r2 --deadline 2030-01-01T00:00:00Z --instructions x 2>/dev/null"

# Deadlines, with the clock moved instead of sleeping.
check "an unacknowledged report is due soon at the coordinator" \
  sh -c "'$NODE' --home '$T/coord' due | grep 'due soon' | grep -q ${id2:0:10}"
check "... and overdue two hours later" \
  sh -c "IRNET_CLOCK_OFFSET_MS=7200000 '$NODE' --home '$T/coord' --json due | grep -A6 '\"acknowledge report\"' | grep -q '\"overdue\": true'"
check "the next periodic report (Form 05, before 20 June / 20 December) shows within its window" \
  sh -c "IRNET_CLOCK_OFFSET_MS=\$(( ( \$(date -d 2026-12-19T12:00:00+07:00 +%s) - \$(date +%s) ) * 1000 )) '$NODE' --home '$T/coord' due | grep -q 'Form 05'"

# Drill traffic follows its incident. An explicit --exercise about a real
# incident is refused before signing (every receiver would keep it and never
# apply it); without the flag, a message about a drill incident is drill
# traffic, and applied.
held() { # NODE TEXT: how many outbox and ledger rows of NODE hold TEXT
  sql "$T/$1/ledger.db" "select (select count(*) from outbox where instr(envelope, cast('$2' as blob)))
                              + (select count(*) from ledger where instr(data, cast('$2' as blob)))"; }
rc=0; LANGUAGE=en LANG=C "$NODE" --home "$T/op" progress "$id2" --summary "Tiến độ diễn tập nhầm" --exercise \
  >/dev/null 2>"$T/err" || rc=$?
check "an --exercise progress report about a real incident is refused (exit 1)" eq "$rc" 1
check "... saying why, naming the incident as real" sh -c "grep -q 'incident $id2 is real, not a drill' '$T/err'"
check "... nothing signed nor stored" eq "$(held op "Tiến độ diễn tập nhầm")" 0
rc=0; "$NODE" --home "$T/coord" task "$id2" --assign kontum/r1 --deadline 2030-01-01T17:00:00+07:00 \
  --instructions "Lệnh diễn tập nhầm" --exercise >/dev/null 2>"$T/err" || rc=$?
check "an --exercise coordination order about a real incident is refused too (exit 1)" eq "$rc" 1
check "... naming the incident, nothing signed nor stored" \
  sh -c "grep -q '$id2' '$T/err' && [ \$(sqlite3 '$T/coord/ledger.db' \"select count(*) from ledger where instr(data, cast('Lệnh diễn tập nhầm' as blob))\") = 0 ]"
idd=$("$NODE" --home "$T/op" --json report --exercise --system "Hệ thống diễn tập" --security-level 2 \
  --category attack.malware --summary "Sự cố giả định" --organisation "Sở Y tế" \
  --detected-at 2026-11-25T09:00:00+07:00 --wait 15 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["message_id"])')
check "the coordinator holds the drill incident" wait_for 15 sh -c "'$NODE' --home '$T/coord' incidents | grep -q $idd"
ex_of() { "$NODE" --home "$T/$1" --json show "$2" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["exercise"])'; }
c=$("$NODE" --home "$T/coord" --json classify "$idd" --severity normal --reason "Diễn tập" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["message_id"])')
check "a classification of the drill incident without --exercise is drill traffic" eq "$(ex_of coord "$c")" True
check "... and applied at every node" wait_for 15 all_at "$idd" classified
e=$("$NODE" --home "$T/op" --json end-report "$idd" --outcome "Diễn tập: đã xử lý" --handling self | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["message_id"])')
check "an end report of the drill incident without --exercise arrives marked as drill traffic" \
  wait_for 15 sh -c "'$NODE' --home '$T/coord' --json show $e 2>/dev/null | grep -q '\"exercise\": true'"
check "... and is applied: the drill incident is resolved at the coordinator and every node" wait_for 15 all_at "$idd" resolved
check "... no exercise mismatch anywhere" sh -c "! '$NODE' --home '$T/coord' events | grep -q exercise-mismatch"
check "an --exercise message about a drill incident is sent as before" \
  sh -c "'$NODE' --home '$T/op' progress $idd --summary 'Diễn tập: báo cáo thêm' --exercise >/dev/null"

# Tasks follow the same rule at the receivers: a coordination order or a task
# status whose flag contradicts its incident is kept, never applied
# (exercise-mismatch, once). The raw --payload-hex path takes no task kinds,
# so the sender's own tables are made to disagree for one message (as an
# older node's or a broken one's would): it then signs drill traffic about
# the real incident $id2 without any flag.
sqlw() { /usr/bin/sqlite3 -cmd '.timeout 10000' "$1" "$2"; }
mism() { sql "$T/$1/ledger.db" "select count(*) from security_events where reason = 'exercise-mismatch' and instr(detail, '$2')"; }
jid() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["message_id"])'; }
sqlw "$T/coord/ledger.db" "update incidents set exercise = 1 where lower(hex(message_id)) = '$id2'"
bad=$("$NODE" --home "$T/coord" --json task "$id2" --assign kontum/own --deadline 2030-01-01T17:00:00+07:00 \
  --instructions "Lệnh diễn tập sai cờ" --assign kontum/r1 --deadline 2030-01-01T17:00:00+07:00 \
  --instructions "Lệnh diễn tập sai cờ 2" | jid)
sqlw "$T/coord/ledger.db" "update incidents set exercise = 0 where lower(hex(message_id)) = '$id2'"
check "(setup) a coordination order marked as drill about the real incident is signed" eq "$(ex_of coord "$bad")" True
good=$("$NODE" --home "$T/coord" --json task "$id2" --assign kontum/own --deadline 2030-01-01T17:00:00+07:00 \
  --instructions "Lệnh thật sau đó" --assign kontum/r1 --deadline 2030-01-01T17:00:00+07:00 \
  --instructions "Lệnh thật sau đó 2" | jid)
tasks_of() { sql "$T/$1/ledger.db" "select count(*) from tasks where lower(hex(tasking)) = '$2'"; }
check "a consistent order about the same incident is applied at its assignees" \
  wait_for 15 sh -c "[ \"\$(sqlite3 '$T/own/ledger.db' \"select count(*) from tasks where lower(hex(tasking)) = '$good'\")\" = 2 ] &&
                     [ \"\$(sqlite3 '$T/r1/ledger.db' \"select count(*) from tasks where lower(hex(tasking)) = '$good'\")\" = 2 ]"
check "negative: the drill order of a real incident creates no task where the incident is held" eq "$(tasks_of own "$bad")" 0
check "... nor where only its earlier orders are" eq "$(tasks_of r1 "$bad")" 0
check "... it is kept in the ledger there" \
  sh -c "[ \$(sqlite3 '$T/own/ledger.db' \"select count(*) from ledger where instr(data, cast('Lệnh diễn tập sai cờ' as blob))\") = 1 ]"
check "... with one exercise-mismatch event at each, naming it" sh -c "[ $(mism own "$bad") = 1 ] && [ $(mism r1 "$bad") = 1 ]"
check "... shown by 'events'" sh -c "'$NODE' --home '$T/own' events | grep exercise-mismatch | grep -q $bad"
check "... and it is not acknowledged (the consistent one is)" \
  wait_for 15 sh -c "[ \"\$(sqlite3 '$T/coord/ledger.db' \"select count(acked_ms) from expected_acks where lower(hex(message_id)) = '$good' and member = 'kontum/own'\")\" = 1 ] &&
                     [ \"\$(sqlite3 '$T/coord/ledger.db' \"select count(acked_ms) from expected_acks where lower(hex(message_id)) = '$bad' and member = 'kontum/own'\")\" = 0 ]"
# A task status: the assignee's table holds the order as a drill for one answer.
"$NODE" --home "$T/r1" task-status "$order" 1 progress --note "Đang làm thật" >/dev/null
check "(setup) a consistent status is applied at the coordinator" \
  wait_for 15 sh -c "[ \"\$(sqlite3 '$T/coord/ledger.db' \"select state || note from tasks where lower(hex(tasking)) = '$order' and number = 1\")\" = '4Đang làm thật' ]"
sqlw "$T/r1/ledger.db" "update tasks set exercise = 1 where lower(hex(tasking)) = '$order'"
bs=$("$NODE" --home "$T/r1" --json task-status "$order" 1 done --note "Xong diễn tập sai cờ" | jid)
sqlw "$T/r1/ledger.db" "update tasks set exercise = 0 where lower(hex(tasking)) = '$order'"
check "(setup) the status is signed as drill traffic" eq "$(ex_of r1 "$bs")" True
check "negative: a drill status of a real incident's task is recorded as exercise-mismatch" \
  wait_for 15 sh -c "[ \"\$(sqlite3 '$T/coord/ledger.db' \"select count(*) from security_events where reason = 'exercise-mismatch' and instr(detail, '$bs')\")\" = 1 ]"
task1() { sql "$T/coord/ledger.db" "select state || note from tasks where lower(hex(tasking)) = '$order' and number = 1"; }
check "... and does not change the task" eq "$(task1)" "4Đang làm thật"
# rebuild replays the same rule, without recording the events again
for n in own r1 coord; do "$NODE" --home "$T/$n" rebuild >/dev/null; done
check "after a rebuild: still no task of the drill order at its assignees" \
  sh -c "[ $(tasks_of own "$bad") = 0 ] && [ $(tasks_of r1 "$bad") = 0 ] && [ $(tasks_of own "$good") = 2 ]"
check "... the drill status still not applied at the coordinator" eq "$(task1)" "4Đang làm thật"
check "... and each event recorded once" sh -c "[ $(mism own "$bad") = 1 ] && [ $(mism r1 "$bad") = 1 ] && [ $(mism coord "$bs") = 1 ]"
for n in $ALL r1 r2; do check "$n ledger verifies" "$NODE" --home "$T/$n" ledger verify; done
finish
