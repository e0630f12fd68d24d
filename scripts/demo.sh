#!/usr/bin/env bash
# The irnet demonstration on loopback: an authority, a broker, an operator,
# an owner, the provincial coordinator and a response team. An operator
# reports a ransomware incident in Vietnamese; it arrives verified at the
# owner and the coordinator with the broker's signed receipt; the
# coordinator acknowledges and classifies it, orders the response team to
# act, the team reports back, the hospital ends it (Form 04) and the coordinator
# closes it; a progress report, an alert acknowledged by everyone, Form 04
# printed as the official form, Form 05 from the ledger; every node agrees
# (same state hash), every ledger verifies and agrees with the broker.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
DIR=$(mktemp -d /tmp/irnet-demo.XXXXXX)
trap 'cleanup_all; [ -n "${KEEP:-}" ] || rm -rf "$DIR"' EXIT
PORT=$(free_port)
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. Authority, broker and four agency nodes (keys made on each member's own machine)"
setup_network "$DIR" "$PORT" op-benhvien:operator owner-syt:owner sotttt:coordinator doi-ungcuu:responder
"$KEYS" roster-show "$DIR/roster.bin"

say "2. Start the broker on 127.0.0.1:$PORT and the nodes"
start_broker "$DIR"
NODES="op-benhvien owner-syt sotttt doi-ungcuu"
for n in $NODES; do start_node "$DIR" $n; done
for n in $NODES; do wait_for 15 node_connected "$DIR" $n; done
echo "all nodes connected over CURVE"

say "3. The operator (a hospital) reports a ransomware incident (Form 03, in Vietnamese)"
cat > "$DIR/form.json" <<'JSON'
{
  "organisation": {"name": "Bệnh viện Đa khoa tỉnh", "address": "Số 1 đường Trần Hưng Đạo, TP. Kon Tum",
                   "phone": "0260 3862 000", "email": "cntt@bvdk.kontum.gov.vn"},
  "contact": {"name": "Nguyễn Thị Hồng", "position": "Trưởng phòng CNTT", "phone": "0905 000 111",
              "email": "hong.nt@bvdk.kontum.gov.vn"},
  "operator": "Phòng Công nghệ thông tin", "owner": "Sở Y tế",
  "system": "Hệ thống quản lý bệnh viện (HIS)", "security_level": 4, "critical_list": false,
  "isp": "VNPT Kon Tum",
  "summary": "Máy chủ HIS bị mã hoá dữ liệu, xuất hiện thông báo đòi tiền chuộc. Dịch vụ khám chữa bệnh bị gián đoạn.",
  "category": "attack.ransomware", "detected_at": "2026-11-25T07:45:00+07:00", "handled": false,
  "detected_by": ["logs", "notified"], "notified": ["owner"],
  "affected_os": "Windows Server 2019", "affected_services": "HIS, PACS",
  "ip_addresses": ["10.20.0.15"], "domain_names": ["his.bvdk.kontum.gov.vn"],
  "measures_taken": "Cô lập máy chủ khỏi mạng, giữ nguyên hiện trạng, sao lưu nhật ký.",
  "confidential": true, "support_requested": "Đề nghị hỗ trợ phân tích mã độc và khôi phục dữ liệu.",
  "impact": {"interruption": true, "disclosure": false, "integrity": true, "control": false, "spread": true},
  "can_handle_alone": false
}
JSON
"$NODE" --home "$DIR/op-benhvien" report --form "$DIR/form.json" --wait 15
ID=$("$NODE" --home "$DIR/op-benhvien" --json incidents | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')

say "4. It arrives, verified again by each recipient, at the owner and the coordinator"
for n in owner-syt sotttt; do
  wait_for 15 sh -c "'$NODE' --home '$DIR/$n' incidents | grep -q $ID"
  echo "--- $n:"; "$NODE" --home "$DIR/$n" incidents
done
echo; echo "--- the coordinator's view of the form (Vietnamese):"
LANGUAGE=vi LANG=vi_VN.UTF-8 "$NODE" --home "$DIR/sotttt" show "$ID"
echo; echo "--- the same in English:"
LANGUAGE=en LANG=C.UTF-8 "$NODE" --home "$DIR/sotttt" show "$ID" | head -8

say "5. The operator holds the broker's signed receipt"
"$NODE" --home "$DIR/op-benhvien" outbox

state_of() { "$NODE" --home "$DIR/$1" --json incidents | /usr/bin/python3 -c "import json,sys; print({i['id']: i['state'] for i in json.load(sys.stdin)}.get('$ID','-'))"; }
agree() { local m; for m in op-benhvien owner-syt sotttt; do [ "$(state_of $m)" = "$1" ] || return 1; done; }

say "6. The coordinator acknowledges and classifies it (QĐ05 art. 9: serious)"
"$NODE" --home "$DIR/sotttt" transition "$ID" --to acknowledged
wait_for 15 agree acknowledged
"$NODE" --home "$DIR/sotttt" classify "$ID" --severity serious \
  --reason "Hệ thống cấp độ 4, dịch vụ khám chữa bệnh bị gián đoạn, chủ quản đề nghị hỗ trợ"
wait_for 15 agree classified
"$NODE" --home "$DIR/sotttt" transition "$ID" --to responding
wait_for 15 agree responding

say "7. A coordination order (Form 06) to the response team, which reports back"
"$NODE" --home "$DIR/sotttt" task "$ID" --assign kontum/doi-ungcuu --deadline 2026-12-31T17:00:00+07:00 \
  --instructions "Phân tích mẫu mã độc, khôi phục dữ liệu từ bản sao lưu"
wait_for 15 sh -c "'$NODE' --home '$DIR/doi-ungcuu' tasks | grep -q 'Phân tích'"
ORDER=$("$NODE" --home "$DIR/doi-ungcuu" --json tasks | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["order"])')
"$NODE" --home "$DIR/doi-ungcuu" task-status "$ORDER" 1 accepted
"$NODE" --home "$DIR/doi-ungcuu" task-status "$ORDER" 1 done --note "Đã khôi phục HIS từ bản sao lưu ngày 24/11"
wait_for 15 sh -c "'$NODE' --home '$DIR/sotttt' --json tasks | grep -q '\"state\": \"done\"'"
"$NODE" --home "$DIR/sotttt" tasks
"$NODE" --home "$DIR/op-benhvien" progress "$ID" --summary "Đã cô lập máy chủ HIS, đang khôi phục dữ liệu" \
  --actions "Ngắt kết nối mạng nội bộ khoa Dược" --percent 70 --contained >/dev/null
echo "the hospital sent a progress report (QĐ05 art. 11.2)"

say "7b. The coordinator warns every member (alert), each acknowledges at once"
ALERT=$("$NODE" --home "$DIR/sotttt" alert --level warning --title "Chiến dịch mã độc tống tiền nhắm vào bệnh viện" \
  --text "Cập nhật bản vá, kiểm tra bản sao lưu ngoại tuyến, chặn tệp đính kèm .iso" --indicator 203.0.113.45 \
  | grep -oE '[0-9a-f]{32}' | head -1)
wait_for 15 sh -c "'$NODE' --home '$DIR/sotttt' acks $ALERT >/dev/null"
"$NODE" --home "$DIR/sotttt" alerts

say "8. The hospital sends the end-of-response report (Form 04): resolved; the coordinator closes it"
END=$("$NODE" --home "$DIR/op-benhvien" end-report "$ID" --outcome "Đã khôi phục dữ liệu từ bản sao lưu" \
  --cause "Máy trạm nhiễm mã độc qua thư điện tử" --handling with-help --damage-vnd 50000000 \
  | grep -oE '[0-9a-f]{32}' | head -1)
wait_for 15 agree resolved
wait_for 15 "$NODE" --home "$DIR/op-benhvien" acks "$ID"   # every receiver acknowledged the report
"$NODE" --home "$DIR/op-benhvien" acks "$ID"
"$NODE" --home "$DIR/sotttt" transition "$ID" --to closed --reason "Đã nhận báo cáo kết thúc ứng cứu"
wait_for 15 agree closed
for n in op-benhvien owner-syt sotttt; do printf '%-12s %s\n' $n "$(state_of $n)"; done
echo; echo "--- the lifecycle as the owner holds it:"
"$NODE" --home "$DIR/owner-syt" show "$ID" | sed -n '/LIFECYCLE/,$p'

echo; echo "--- the end-of-response report as the official Form 04 (Vietnamese), signature checked:"
"$NODE" --home "$DIR/sotttt" form "$END"

say "9. The coordinator's periodic report (Form 05) for this year, from its ledger"
"$NODE" --home "$DIR/sotttt" periodic --from 2026-01-01 --to 2026-12-31

say "10. Every node holds the same state; every ledger verifies and agrees with the broker"
for n in op-benhvien owner-syt sotttt; do printf '%-12s state hash %s\n' $n "$("$NODE" --home "$DIR/$n" state-hash "$ID")"; done
"$BROKER" --home "$DIR/broker" ledger verify
for n in $NODES; do printf '%-12s ' $n; "$NODE" --home "$DIR/$n" ledger verify; done
for n in $NODES; do printf '%-12s ' $n; "$NODE" --home "$DIR/$n" ledger audit; done

say "11. Stop everything"
cleanup_all
echo "demo finished: one incident from report to closure, every message signed and verified at every step"
