#!/usr/bin/env bash
# The irnet demonstration on loopback: an authority, a broker, an operator,
# an owner and the provincial coordinator. An operator reports a ransomware
# incident in Vietnamese; it arrives verified at the owner and the
# coordinator with the broker's signed receipt; every ledger verifies.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
DIR=$(mktemp -d /tmp/irnet-demo.XXXXXX)
trap 'cleanup_all; [ -n "${KEEP:-}" ] || rm -rf "$DIR"' EXIT
PORT=$(free_port)
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. Authority, broker and three agency nodes (keys made on each member's own machine)"
setup_network "$DIR" "$PORT" op-benhvien:operator owner-syt:owner sotttt:coordinator
"$KEYS" roster-show "$DIR/roster.bin"

say "2. Start the broker on 127.0.0.1:$PORT and the nodes"
start_broker "$DIR"
for n in op-benhvien owner-syt sotttt; do start_node "$DIR" $n; done
for n in op-benhvien owner-syt sotttt; do wait_for 15 node_connected "$DIR" $n; done
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
ID=$("$NODE" --home "$DIR/op-benhvien" --json outbox | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')

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

say "6. Every ledger verifies"
"$BROKER" --home "$DIR/broker" ledger verify
for n in op-benhvien owner-syt sotttt; do printf '%-12s ' $n; "$NODE" --home "$DIR/$n" ledger verify; done

say "7. Stop everything"
cleanup_all
echo "demo finished: the report went operator -> broker -> owner + coordinator, signed and verified at every step"
