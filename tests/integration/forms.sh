#!/usr/bin/env bash
# Forms for people (Form 03, 04, 06, 01/02) in Vietnamese and English with
# the signer and the signature checked again; a tampered copy shows the
# failure. Member profiles reach the coordinator; Vietnamese search with and
# without diacritics; rebuild from the ledger gives the same state hash,
# and every node that took part holds the same state.
. "$(dirname "$0")/common.sh"
fail_on_unexpected_errors
PBENC="$(dirname "$0")/../tools/pbenc.py"
REPORT_TO=role:coordinator,role:owner setup_network "$T" "$PORT" \
  op:operator coord:coordinator own:owner r1:responder
start_broker "$T"
ALL="op coord own"
for n in $ALL r1; do start_node "$T" $n; done
for n in $ALL r1; do wait_for 15 node_connected "$T" $n; done
me=$(id -un)
jid() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["message_id"])'; }
holds() { "$NODE" --home "$T/$1" form "$2" >/dev/null 2>&1; }

id=$("$NODE" --home "$T/op" --json report --system "Cổng thông tin điện tử Đà Nẵng" --security-level 4 \
  --category attack.ransomware --summary "Máy chủ bị nhiễm mã độc mã hóa dữ liệu" \
  --organisation "Sở Y tế" --contact "Nguyễn Văn An" --phone "0260 3862 111" \
  --detected-at 2026-06-10T07:00:00+07:00 --person "Trần Thị Bình" --wait 15 | jid)
check "the coordinator and the owner hold the report" wait_for 15 sh -c "$(declare -f holds); NODE=$NODE T=$T; holds coord $id && holds own $id"

# Form 03 in Vietnamese (the default, whatever the environment says)
LANGUAGE=en LANG=C "$NODE" --home "$T/coord" form "$id" > "$T/f03.vi"
check "Form 03 in Vietnamese by default: title" grep -q "MẪU 03 - BÁO CÁO BAN ĐẦU SỰ CỐ AN TOÀN THÔNG TIN MẠNG" "$T/f03.vi"
check "... Vietnamese labels and content" sh -c "grep -q 'Tên hệ thống: *Cổng thông tin điện tử Đà Nẵng' '$T/f03.vi' && grep -q 'Cấp độ an toàn hệ thống (1-5): *4' '$T/f03.vi' && grep -q 'Người liên hệ' '$T/f03.vi'"
check "... the signer: member, organisation, authorised person, local account" sh -c "grep -q 'Thành viên ký: *kontum/op' '$T/f03.vi' && grep -q 'Cơ quan, tổ chức: *Tổ chức op' '$T/f03.vi' && grep -q 'Người có thẩm quyền ký: *Trần Thị Bình' '$T/f03.vi' && grep -q 'Tài khoản cục bộ: *$me' '$T/f03.vi'"
fp=$("$NODE" --home "$T/op" whoami | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["fingerprint"])')
check "... the signing key's fingerprint" grep -q "Dấu vân tay khóa: *$fp" "$T/f03.vi"
check "... and the verification result" grep -q "Chữ ký số: *ĐÃ XÁC THỰC" "$T/f03.vi"
# labels padded by display width: the values start in one column
col() { /usr/bin/python3 - "$1" <<'PY'
import re, sys
pos = set()
for l in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"^  (\S.*?:)( {2,})(\S)", l)
    if m:  # NFC Vietnamese: one code point is one column
        pos.add(len(m.group(1)) + len(m.group(2)))
print(len(pos))
PY
}
check "... values aligned by display width, not bytes" eq "$(col "$T/f03.vi")" 1

# A label without a translation falls back to English, silently
mkdir -p "$T/locale/vi/LC_MESSAGES"
msggrep --invert-match -K -e '^System name:$' "$(dirname "$0")/../../po/vi.po" -o "$T/partial.po"
msgfmt -o "$T/locale/vi/LC_MESSAGES/irnet.mo" "$T/partial.po"
IRNET_LOCALEDIR="$T/locale" "$NODE" --home "$T/coord" form "$id" > "$T/f03.partial" 2> "$T/partial.err"
check "a missing translation falls back to English silently" sh -c "grep -q '^  System name: *Cổng thông tin' '$T/f03.partial' && grep -q 'Cấp độ an toàn hệ thống' '$T/f03.partial' && [ ! -s '$T/partial.err' ]"

"$NODE" --home "$T/coord" form "$id" --lang en > "$T/f03.en"
check "Form 03 in English with --lang en" sh -c "grep -q 'FORM 03 - INITIAL REPORT' '$T/f03.en' && grep -q 'System name: *Cổng thông tin' '$T/f03.en' && grep -q 'Signed by member: *kontum/op' '$T/f03.en'"
check "... VERIFIED" grep -q "Signature: *VERIFIED" "$T/f03.en"
check "... no Vietnamese label left" sh -c "! grep -q 'Tên hệ thống' '$T/f03.en'"
"$NODE" --home "$T/coord" --json form "$id" > "$T/f03.json"
check "--json: verified, signer, rows" /usr/bin/python3 -c "
import json; o=json.load(open('$T/f03.json'))
assert o['verified'] is True and o['signer']['member']=='kontum/op' and o['signer']['person']=='Trần Thị Bình'
assert o['signer']['fingerprint']=='$fp' and o['kind']=='initial-report' and not o['exercise']
assert any(r.get('value')=='Sở Y tế' for r in o['rows'])"

# A drill is shown prominently
ex=$("$NODE" --home "$T/op" --json report --exercise --system "Hệ thống thư điện tử" --security-level 2 \
  --category attack.phishing --summary "Diễn tập: thư giả mạo" --organisation "Sở Nội vụ" --detected-at 2026-06-11T08:00:00+07:00 --wait 15 | jid)
wait_for 15 holds coord "$ex"
"$NODE" --home "$T/coord" form "$ex" > "$T/ex.vi"
check "an exercise message is marked at the top and the bottom" sh -c "head -1 '$T/ex.vi' | grep -q 'DIỄN TẬP' && tail -1 '$T/ex.vi' | grep -q 'DIỄN TẬP'"
check "... and in English" sh -c "'$NODE' --home '$T/coord' form $ex --lang en | head -1 | grep -q 'EXERCISE (DRILL)'"

# Form 06: a coordination order, with the task's state
"$NODE" --home "$T/coord" task "$id" --assign kontum/r1 --deadline 2030-01-01T17:00:00+07:00 \
  --instructions "Cô lập máy chủ, thu thập nhật ký" > "$T/task.out"
tid=$(grep -oE '[0-9a-f]{32}' "$T/task.out" | head -1)
check "the responder holds the order" wait_for 15 holds r1 "$tid"
"$NODE" --home "$T/r1" form "$tid" > "$T/f06.vi"
check "Form 06 in Vietnamese: title, assignee, instructions, deadline" sh -c "grep -q 'MẪU 06 - LỆNH ĐIỀU PHỐI ỨNG CỨU SỰ CỐ' '$T/f06.vi' && grep -q 'Đơn vị được giao: *kontum/r1' '$T/f06.vi' && grep -q 'Nội dung nhiệm vụ: *Cô lập máy chủ' '$T/f06.vi' && grep -q 'Thời hạn: *2030-01-01 17:00:00' '$T/f06.vi' && grep -q 'ĐÃ XÁC THỰC' '$T/f06.vi'"

# Form 04: an end report linked to the initial report
initial_ms=1781053200000   # 2026-06-10 08:00 +07:00
end=$("$NODE" --home "$T/op" end-report "$id" --outcome "Đã khôi phục từ bản sao lưu" --handling with-help \
  --ended-at 2026-06-16T00:00:00Z --damage-vnd 12500000 --national-help --to role:coordinator | grep -oE '[0-9a-f]{32}' | head -1)
check "the coordinator holds the end report" wait_for 15 holds coord "$end"
"$NODE" --home "$T/coord" form "$end" > "$T/f04.vi"
check "Form 04 in Vietnamese: title, link to the initial report, damage, handling" sh -c "grep -q 'MẪU 04 - BÁO CÁO KẾT THÚC ỨNG PHÓ SỰ CỐ' '$T/f04.vi' && grep -q 'Sự cố (số báo cáo ban đầu): *$id' '$T/f04.vi' && grep -q 'Ước tính thiệt hại: *12.500.000 VND' '$T/f04.vi' && grep -q 'có sự hỗ trợ của tổ chức khác trong nước' '$T/f04.vi'"
check "... in English: 12,500,000 VND, with help of others" sh -c "'$NODE' --home '$T/coord' form $end --lang en | grep -q 'Estimated damage: *12,500,000 VND'"
# The other typed reports of QĐ05 art. 11.2, an alert and an acknowledgement,
# each printed as its form in Vietnamese with the signature checked.
idof() { grep -oE '[0-9a-f]{32}' | head -1; }
prog=$("$NODE" --home "$T/op" progress "$id" --summary "Đã cô lập máy chủ" --percent 60 --to role:coordinator | idof)
plan=$("$NODE" --home "$T/op" plan "$id" --objective "Khôi phục dịch vụ trong 24 giờ" --to role:coordinator | idof)
dirq=$("$NODE" --home "$T/op" direction "$id" --question "Có báo cáo Bộ Công an không?" --to role:coordinator | idof)
supq=$("$NODE" --home "$T/op" support "$id" --needed "Chuyên gia phân tích mã độc" --from national --to role:coordinator | idof)
alrt=$("$NODE" --home "$T/coord" alert --level urgent --title "Cảnh báo khẩn" --text "Chặn địa chỉ 203.0.113.9" --to role:operator | idof)
for pair in "coord $prog BÁO CÁO TIẾN ĐỘ ỨNG CỨU SỰ CỐ" "coord $plan PHƯƠNG ÁN ỨNG CỨU SỰ CỐ" \
            "coord $dirq ĐỀ NGHỊ CHỈ ĐẠO" "coord $supq ĐỀ NGHỊ HỖ TRỢ" "op $alrt CẢNH BÁO / KHUYẾN NGHỊ"; do
  read -r who mid title <<< "$pair"
  check "$title: held by $who, printed with its Vietnamese title and the signature verified" \
    wait_for 15 sh -c "'$NODE' --home '$T/$who' form $mid > '$T/typed.vi' 2>/dev/null && grep -q '$title' '$T/typed.vi' && grep -q 'ĐÃ XÁC THỰC' '$T/typed.vi'"
done
check "... the progress report in English too" sh -c "'$NODE' --home '$T/coord' form $prog --lang en | grep -q 'PROGRESS REPORT ON THE RESPONSE'"
ackid=$(sqlite3 "$T/coord/ledger.db" "select lower(hex(message_id)) from ledger where type=2 and kind=14 and sender='kontum/op' limit 1")
check "an automatic acknowledgement is printed as its form too" \
  sh -c "[ -n '$ackid' ] && '$NODE' --home '$T/coord' form '$ackid' | grep -q 'XÁC NHẬN ĐÃ NHẬN'"
check "a malformed end report is refused before sending" sh -c "! '$NODE' --home '$T/op' message --kind end-report --payload-hex 0a03 2>/dev/null"
check "... with the daemon's reason in the user's language (LANGUAGE=vi)" sh -c "! LANGUAGE=vi LANG=C.UTF-8 '$NODE' --home '$T/op' message --kind end-report --payload-hex 0a03 2>'$T/refused.vi' && grep -q 'bị từ chối: báo cáo kết thúc không giải mã được' '$T/refused.vi'"
check "... and in English under LANGUAGE=en" sh -c "! LANGUAGE=en LANG=C.UTF-8 '$NODE' --home '$T/op' message --kind end-report --payload-hex 0a03 2>'$T/refused.en' && grep -q 'refused: end report does not decode' '$T/refused.en'"

# A tampered copy of the ledger: the form shows the failure
mkdir -p "$T/copy/keys"; cp "$T/coord/irnet.conf" "$T/copy/"; cp "$T/coord/keys/"* "$T/copy/keys/" 2>/dev/null || true
/usr/bin/sqlite3 "$T/coord/ledger.db" ".backup '$T/copy/ledger.db'"
/usr/bin/python3 - "$T/copy/ledger.db" "$id" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
    db.execute('DROP TRIGGER "%s"' % name)
mid = bytes.fromhex(sys.argv[2])
idx, data = db.execute("SELECT idx, data FROM ledger WHERE type=2 AND message_id=?", (mid,)).fetchone()
old = "Sở Y tế".encode(); new = "Sở Y tể".encode()
assert old in data and len(old) == len(new)
db.execute("UPDATE ledger SET data=? WHERE idx=?", (data.replace(old, new), idx))
db.commit()
PY
rc=0; "$NODE" --home "$T/copy" form "$id" > "$T/tampered.vi" 2>&1 || rc=$?
"$NODE" --home "$T/copy" form "$id" --lang en > "$T/tampered.en" 2>&1 || true
check "a tampered copy: exit status 1" eq "$rc" 1
check "... the failure shown, in Vietnamese" sh -c "grep -q 'KHÔNG XÁC THỰC ĐƯỢC: ' '$T/tampered.vi' && grep -q 'CHỮ KÝ KHÔNG XÁC THỰC ĐƯỢC' '$T/tampered.vi' && ! grep -q 'ĐÃ XÁC THỰC' '$T/tampered.vi'"
check "... and in English" sh -c "grep -q 'NOT VERIFIED: signature does not verify' '$T/tampered.en' && ! grep -q ': *VERIFIED' '$T/tampered.en'"
# The reason itself in the reader's language too (the protocol and the logs
# keep it in English): in the form, and from 'show' under LANGUAGE=vi
check "... the reason in Vietnamese in the form, not in English" sh -c "grep -q 'KHÔNG XÁC THỰC ĐƯỢC: chữ ký số không khớp với nội dung' '$T/tampered.vi' && ! grep -q 'signature does not verify' '$T/tampered.vi'"
rc=0; LANGUAGE=vi LANG=C.UTF-8 "$NODE" --home "$T/copy" show "$id" > "$T/show.vi" 2>&1 || rc=$?
check "... and from 'show' under LANGUAGE=vi" sh -c "[ $rc = 1 ] && grep -q 'thông điệp đã lưu KHÔNG vượt qua kiểm tra: chữ ký số không khớp với nội dung' '$T/show.vi' && ! grep -q 'signature does not verify' '$T/show.vi'"
rc=0; LANGUAGE=en LANG=C.UTF-8 "$NODE" --home "$T/copy" show "$id" > "$T/show.en" 2>&1 || rc=$?
check "... 'show' in English under LANGUAGE=en" sh -c "[ $rc = 1 ] && grep -q 'does NOT verify: signature does not verify' '$T/show.en'"

# Forms 01/02: profiles reach the coordinator; a newer one replaces the contact
cat > "$T/profile.json" <<'EOF'
{"organisation": {"name": "Sở Y tế tỉnh Kon Tum", "address": "Kon Tum", "phone": "0260 3862 000"},
 "primary": {"name": "Nguyễn Văn An", "position": "Trưởng phòng CNTT", "phone": "0905 111 222", "email": "an@syt.example"},
 "backup": {"name": "Lê Thị Cúc", "phone": "0905 333 444"},
 "systems": [{"name": "Cổng thông tin điện tử", "security_level": 3, "purpose": "Thông tin cho người dân"},
             {"name": "Hệ thống bệnh án điện tử", "security_level": 4, "critical_list": true}]}
EOF
"$NODE" --home "$T/op" profile set --form "$T/profile.json" >/dev/null
check "the coordinator lists the profile with both 24/7 contacts" \
  wait_for 15 sh -c "'$NODE' --home '$T/coord' profile list | grep 'kontum/op' | grep 'Nguyễn Văn An 0905 111 222' | grep -q 'Lê Thị Cúc 0905 333 444'"
sed 's/0905 111 222/0913 999 888/' "$T/profile.json" > "$T/profile2.json"
"$NODE" --home "$T/op" profile set --form "$T/profile2.json" >/dev/null
check "a contact change is a newer signed profile: the coordinator shows the new phone" \
  wait_for 15 sh -c "'$NODE' --home '$T/coord' --json profile show kontum/op | grep -q '0913 999 888'"
check "... once (the newest per member)" eq "$("$NODE" --home "$T/coord" profile list | grep -c kontum/op)" 1
check "... the systems with their security levels, as Forms 01/02" sh -c "'$NODE' --home '$T/coord' profile show kontum/op | grep -q 'MẪU 01/02' && '$NODE' --home '$T/coord' profile show kontum/op | grep -q 'Hệ thống bệnh án điện tử'"
check "the owner is not a profile recipient: it holds none" eq "$("$NODE" --home "$T/own" --json profile list)" "[]"
/usr/bin/python3 -c "import json; p=json.load(open('$T/profile.json')); p['systems'][0]['security_level']=7; json.dump(p, open('$T/bad.json','w'))"
check "a system with security level 7 is refused" sh -c "! '$NODE' --home '$T/op' profile set --form '$T/bad.json' 2>'$T/err' && grep -q 'security level' '$T/err'"
/usr/bin/python3 -c "import json; p=json.load(open('$T/profile.json')); del p['backup']['phone']; json.dump(p, open('$T/bad2.json','w'))"
check "a 24/7 contact without a phone is refused" sh -c "! '$NODE' --home '$T/op' profile set --form '$T/bad2.json' 2>/dev/null"

# Search: Vietnamese with or without diacritics, any case, NFC or NFD
s() { "$NODE" --home "$T/coord" --json search "$@" | /usr/bin/python3 -c 'import json,sys; print(",".join(sorted(i["id"] for i in json.load(sys.stdin))))'; }
check "'ma doc' finds 'mã độc'" eq "$(s ma doc)" "$id"
check "'MÃ ĐỘC' finds it" eq "$(s 'MÃ ĐỘC')" "$id"
check "'da nang' finds 'Đà Nẵng'" eq "$(s da nang)" "$id"
check "NFD input finds it" eq "$(s "$(printf 'Đa\xcc\x80 Na\xcc\x86\xcc\x83ng')")" "$id"
check "by organisation ('so y te')" eq "$(s so y te)" "$id"
check "by category label ('thu gia mao' finds the phishing drill)" eq "$(s thu gia mao)" "$ex"
check "every word must match" eq "$(s ma doc thu)" ""
check "no match: empty" eq "$(s 'không có')" ""

# State hash: the same on every node that took part; rebuild keeps it
"$NODE" --home "$T/coord" transition "$id" --to acknowledged >/dev/null
check "the coordinator's acknowledgement is in the broker's order" wait_for 15 sh -c "'$NODE' --home '$T/coord' incidents | grep $id | grep -q acknowledged"
"$NODE" --home "$T/coord" classify "$id" --severity serious --reason "Cấp độ 4, gián đoạn dịch vụ" >/dev/null
st() { "$NODE" --home "$T/$1" --json incidents | /usr/bin/python3 -c "import json,sys; print({i['id']: i['state'] for i in json.load(sys.stdin)}.get('$id'))"; }
check "all nodes reach 'classified'" wait_for 15 sh -c "$(declare -f st); NODE=$NODE T=$T; id=$id; [ \$(st op) = classified ] && [ \$(st own) = classified ] && [ \$(st coord) = classified ]"
h_op=$("$NODE" --home "$T/op" state-hash "$id"); h_co=$("$NODE" --home "$T/coord" state-hash "$id"); h_ow=$("$NODE" --home "$T/own" state-hash "$id")
check "the incident's state hash is the same at operator, coordinator and owner" sh -c "[ '$h_op' = '$h_co' ] && [ '$h_co' = '$h_ow' ]"
all_op=$("$NODE" --home "$T/op" state-hash); all_ow=$("$NODE" --home "$T/own" state-hash)
check "... and the whole state at operator and owner (the same incidents, no tasks)" eq "$all_op" "$all_ow"
check "the coordinator's whole state differs: it holds the Form 06 tasks" sh -c "[ \"\$('$NODE' --home '$T/coord' state-hash)\" != '$all_ow' ]"
# TLP:RED: the opened copy lost, only the daemon's key can open it again
red=$("$NODE" --home "$T/op" --json report --tlp red --system "Hệ thống mật" --security-level 3 \
  --category attack.espionage --summary "Lộ dữ liệu tuyệt mật" --organisation "Sở Nội vụ" \
  --detected-at 2026-06-12T08:00:00+07:00 --wait 15 | jid)
check "the coordinator opens the TLP:RED report" wait_for 15 sh -c "'$NODE' --home '$T/coord' form $red | grep -q 'Lộ dữ liệu tuyệt mật'"
/usr/bin/sqlite3 "$T/coord/ledger.db" "PRAGMA busy_timeout=5000; DELETE FROM sealed_plain;" >/dev/null
check "... without its opened copy it is not readable" sh -c "'$NODE' --home '$T/coord' form $red | grep -q 'TLP:RED' && ! '$NODE' --home '$T/coord' form $red | grep -q 'Lộ dữ liệu'"
for n in op coord own r1; do
  before=$("$NODE" --home "$T/$n" state-hash)
  out=$("$NODE" --home "$T/$n" --json rebuild)
  after=$(echo "$out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["state_hash"])')
  check "rebuild at $n from the ledger alone: the same state hash" eq "$after" "$before"
  check "... as 'state-hash' prints it after the rebuild" eq "$("$NODE" --home "$T/$n" state-hash)" "$before"
done
check "the rebuild opened the TLP:RED report again with the daemon's key" sh -c "'$NODE' --home '$T/coord' form $red | grep -q 'Lộ dữ liệu tuyệt mật'"
check "after the rebuild the coordinator still shows the classification" sh -c "'$NODE' --home '$T/coord' --json incidents | grep -q '\"classified_by\": \"kontum/coord\"'"
check "... the profile" sh -c "'$NODE' --home '$T/coord' profile list | grep -q '0913 999 888'"
check "... the search index" eq "$(s da nang)" "$id"
check "... and the responder its task" sh -c "'$NODE' --home '$T/r1' tasks | grep -q 'Cô lập máy chủ'"
# the derived tables really were dropped and refilled
pre=$("$NODE" --home "$T/own" state-hash)
/usr/bin/sqlite3 "$T/own/ledger.db" "PRAGMA busy_timeout=5000; DELETE FROM incidents; DELETE FROM transitions;" >/dev/null
check "the owner's derived rows are gone" sh -c "[ \"\$('$NODE' --home '$T/own' state-hash)\" != '$pre' ]"
"$NODE" --home "$T/own" rebuild >/dev/null
check "rebuild after the derived rows were lost: the owner's state is back" eq "$("$NODE" --home "$T/own" state-hash)" "$pre"
kill "${PIDS[3]}"; wait "${PIDS[3]}" 2>/dev/null || true   # the owner's daemon
check "rebuild without the daemon is refused with a clear message" sh -c "! '$NODE' --home '$T/own' rebuild 2>'$T/err' && grep -q 'daemon is not running' '$T/err'"
check "every ledger verifies" sh -c "for n in op coord own r1; do '$NODE' --home '$T/'\$n ledger verify >/dev/null || exit 1; done"
finish
