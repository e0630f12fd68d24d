#!/usr/bin/env bash
# Attachments: chunked, hashed, size-capped, stored inert. The EICAR test
# string never appears in clear in any database, WAL or log; bad chunks are
# refused; an export gives back the original bytes, mode 0600, never
# overwriting, never executable.
. "$(dirname "$0")/common.sh"
fail_on_unexpected_errors
PBENC="$(dirname "$0")/../tools/pbenc.py"
REPORT_TO=role:coordinator,role:owner setup_network "$T" "$PORT" \
  op:operator coord:coordinator own:owner r1:responder
printf 'attachment_max = 1048576\n' >> "$T/op/irnet.conf"   # the sender's cap: 1 MiB
printf 'attachment_max = 200000\n' >> "$T/own/irnet.conf"   # a receiver's cap
start_broker "$T"
for n in op coord own r1; do start_node "$T" $n; done
for n in op coord own r1; do wait_for 15 node_connected "$T" $n; done
jid() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["message_id"])'; }
id=$("$NODE" --home "$T/op" --json report --system "Máy chủ thư" --security-level 3 --category attack.malware \
  --summary "Phát hiện tệp mã độc trong thư" --organisation "Sở Tài chính" \
  --detected-at 2026-06-10T07:00:00+07:00 --wait 15 | jid)
check "the coordinator holds the report" wait_for 15 sh -c "'$NODE' --home '$T/coord' incidents | grep -q $id"

mkdir -p "$T/files" "$T/out"
MARK='EICAR-STANDARD-ANTIVIRUS-TEST-FILE'
printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > "$T/files/eicar.com"
head -c 300000 /dev/urandom > "$T/files/logs.bin"                 # 3 chunks of <= 128 KiB
printf '%s\n' "$MARK in a log line" >> "$T/files/logs.bin"        # the marker inside a multi-chunk file too
head -c 1500000 /dev/urandom > "$T/files/too-big.bin"
: > "$T/files/empty.bin"
check "the EICAR file holds the marker in clear (so the grep below can fail)" grep -q "$MARK" "$T/files/eicar.com"

"$NODE" --home "$T/op" attach --incident "${id:0:10}" "$T/files/eicar.com" "$T/files/logs.bin" > "$T/attach.out"
h_eicar=$(b2sum -l 256 "$T/files/eicar.com" | cut -d' ' -f1)
h_logs=$(b2sum -l 256 "$T/files/logs.bin" | cut -d' ' -f1)
check "attach prints each file's BLAKE2b-256" sh -c "grep -q '^$h_eicar  eicar.com  68 bytes in 1 part' '$T/attach.out' && grep -q '^$h_logs  logs.bin  $(stat -c %s "$T/files/logs.bin") bytes in 3 part' '$T/attach.out'"
check "over the sender's attachment_max: refused" sh -c "! '$NODE' --home '$T/op' attach --incident $id '$T/files/too-big.bin' 2>'$T/err' && grep -q 'attachment_max' '$T/err'"
check "an empty file: refused" sh -c "! '$NODE' --home '$T/op' attach --incident $id '$T/files/empty.bin' 2>/dev/null"
check "an unknown incident: refused" sh -c "! '$NODE' --home '$T/op' attach --incident abcdef012345 '$T/files/eicar.com' 2>/dev/null"

state() { "$NODE" --home "$T/$1" --json attachment --list | /usr/bin/python3 -c "import json,sys; print(','.join(sorted(a['name']+':'+a['state']+':'+str(a['received'])+'/'+str(a['count']) for a in json.load(sys.stdin))))"; }
check "the coordinator holds both, complete, the whole-file hashes checked" wait_for 20 sh -c "$(declare -f state); NODE=$NODE T=$T; [ \"\$(state coord)\" = 'eicar.com:complete:1/1,logs.bin:complete:3/3' ]"
check "the owner keeps only what is within its own cap" wait_for 20 sh -c "$(declare -f state); NODE=$NODE T=$T; [ \"\$(state own)\" = 'eicar.com:complete:1/1' ]"
check "... and says why" grep -q "over this node's limit" "$T/own.log"
check "the responder, not a recipient, holds none" eq "$(state r1)" ""

"$NODE" --home "$T/coord" attachment "${h_eicar:0:12}" --out "$T/out/eicar.out" >/dev/null
check "the export equals the original" cmp "$T/files/eicar.com" "$T/out/eicar.out"
check "... mode 0600, not executable" sh -c "[ \$(stat -c %a '$T/out/eicar.out') = 600 ] && [ ! -x '$T/out/eicar.out' ]"
check "... an existing file is never overwritten" sh -c "! '$NODE' --home '$T/coord' attachment $h_eicar --out '$T/out/eicar.out' 2>'$T/err' && grep -q 'never overwritten' '$T/err' && cmp -s '$T/files/eicar.com' '$T/out/eicar.out'"
ln -s "$T/out/elsewhere" "$T/out/link"
check "... nor written through a symbolic link" sh -c "! '$NODE' --home '$T/coord' attachment $h_eicar --out '$T/out/link' 2>/dev/null && [ ! -e '$T/out/elsewhere' ]"
"$NODE" --home "$T/coord" attachment "$h_logs" --out "$T/out/logs.out" >/dev/null
check "a three-part file comes back byte for byte" cmp "$T/files/logs.bin" "$T/out/logs.out"
check "the owner exports the EICAR file too" sh -c "'$NODE' --home '$T/own' attachment $h_eicar --out '$T/out/own-eicar' >/dev/null && cmp -s '$T/files/eicar.com' '$T/out/own-eicar'"

# Bad chunks: refused before they are signed
h0=$(printf '%064d' 0)
check "a chunk index out of range is refused" sh -c "! '$NODE' --home '$T/op' message --kind attachment --to role:coordinator --payload-hex \$(/usr/bin/python3 '$PBENC' chunk $h0 x.bin 100 5 1 100) 2>'$T/err' && grep -q 'index out of range' '$T/err'"
check "a chunk of the wrong length is refused" sh -c "! '$NODE' --home '$T/op' message --kind attachment --to role:coordinator --payload-hex \$(/usr/bin/python3 '$PBENC' chunk $h0 x.bin 100 0 1 50) 2>'$T/err' && grep -q 'wrong length' '$T/err'"
/usr/bin/python3 "$PBENC" --out "$T/big.pb" chunk "$h0" x.bin 73400320 0 560 131072
check "an oversize attachment (70 MiB) is refused" sh -c "! '$NODE' --home '$T/op' message --kind attachment --to role:coordinator --payload-file '$T/big.pb' 2>'$T/err' && grep -q 'size out of range' '$T/err'"
/usr/bin/python3 "$PBENC" --out "$T/count.pb" chunk "$h0" x.bin 300000 0 2 131072
check "a count that does not match the size is refused" sh -c "! '$NODE' --home '$T/op' message --kind attachment --to role:coordinator --payload-file '$T/count.pb' 2>'$T/err' && grep -q 'count does not match' '$T/err'"
check "a file name with a path is refused" sh -c "! '$NODE' --home '$T/op' message --kind attachment --to role:coordinator --payload-hex \$(/usr/bin/python3 '$PBENC' chunk $h0 ../etc/x 100 0 1 100) 2>'$T/err' && grep -q 'file name' '$T/err'"
# Wrong hash: the chunk is well formed, so it travels; the receiver finds
# that the bytes do not make up the file the hash names and refuses to export.
hw=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$NODE" --home "$T/op" message --kind attachment --to role:coordinator \
  --payload-hex "$(/usr/bin/python3 "$PBENC" chunk "$hw" evil.bin 1000 0 1 1000 --ref "$id" kontum/op)" >/dev/null
hp=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
/usr/bin/python3 "$PBENC" --out "$T/part.pb" chunk "$hp" part.bin 200000 0 2 131072 --ref "$id" kontum/op
"$NODE" --home "$T/op" message --kind attachment --to role:coordinator --payload-file "$T/part.pb" >/dev/null
check "a wrong-hash attachment is marked corrupt" wait_for 15 sh -c "$(declare -f state); NODE=$NODE T=$T; state coord | grep -q 'evil.bin:corrupt:1/1'"
check "... and its export refused, nothing written" sh -c "! '$NODE' --home '$T/coord' attachment ${hw:0:16} --out '$T/out/evil' 2>'$T/err' && grep -q corrupt '$T/err' && [ ! -e '$T/out/evil' ]"
check "an incomplete attachment's export is refused" wait_for 15 sh -c "! '$NODE' --home '$T/coord' attachment ${hp:0:16} --out '$T/out/part' 2>'$T/err' && grep -q 'incomplete, 1 of 2' '$T/err' && [ ! -e '$T/out/part' ]"

# report --attach: Form 03 names the files (name, size, hash); they follow as chunks
printf 'Nhật ký tường lửa %s\n' "$MARK" > "$T/files/firewall.log"
h_fw=$(b2sum -l 256 "$T/files/firewall.log" | cut -d' ' -f1)
id2=$("$NODE" --home "$T/op" --json report --system "Tường lửa" --security-level 3 --category attack.intrusion \
  --summary "Truy cập trái phép" --organisation "Sở Tài chính" --detected-at 2026-06-11T07:00:00+07:00 \
  --attach "$T/files/firewall.log" --attach "$T/files/eicar.com" --wait 15 | jid)
check "report --attach: the coordinator holds both files of the new incident" wait_for 15 sh -c "'$NODE' --home '$T/coord' --json attachment --list --incident $id2 | grep -c '\"complete\"' | grep -qx 2"
check "... Form 03 names them, signed, with their hashes" sh -c "'$NODE' --home '$T/coord' --json show $id2 | grep -q '$h_fw' && '$NODE' --home '$T/coord' form $id2 | grep 'Tệp đính kèm:' | grep -q \"firewall.log ($(stat -c %s "$T/files/firewall.log") B, BLAKE2b ${h_fw:0:16}\""
check "... a missing file is refused before anything is signed" sh -c "! '$NODE' --home '$T/op' report --system S --security-level 1 --category fault.power --summary x --organisation o --detected-at 2026-06-11T07:00:00+07:00 --attach '$T/files/none' 2>/dev/null && [ \$('$NODE' --home '$T/op' --json incidents | grep -c '\"id\"') = 2 ]"

# Inert everywhere: no database, WAL or log holds the marker in clear
check "the broker's ledger holds the chunks" sh -c "[ \$(sqlite3 '$T/broker/ledger.db' 'select count(*) from ledger where kind=18') -ge 6 ]"
sleep 0.5
check "the EICAR marker is in no database, WAL or log of any node or the broker" \
  sh -c "! grep -l -a -F '$MARK' '$T'/broker/ledger.db* '$T'/op/ledger.db* '$T'/coord/ledger.db* '$T'/own/ledger.db* '$T'/r1/ledger.db* '$T'/*.log"
check "rebuild at the coordinator: the attachments are the same" sh -c "before=\$($(declare -f state); NODE=$NODE T=$T; state coord); '$NODE' --home '$T/coord' rebuild >/dev/null && [ \"\$($(declare -f state); NODE=$NODE T=$T; state coord)\" = \"\$before\" ]"
check "... and still export" sh -c "'$NODE' --home '$T/coord' attachment $h_logs --out '$T/out/logs2.out' >/dev/null && cmp -s '$T/files/logs.bin' '$T/out/logs2.out'"
check "... still inert after the rebuild" sh -c "! grep -l -a -F '$MARK' '$T'/coord/ledger.db*"
check "Form 03 lists the files held for the incident, with their state" sh -c "'$NODE' --home '$T/coord' form $id | grep 'Tệp:' | grep -q 'eicar.com, 68 B, kontum/op: đầy đủ (1/1)' && '$NODE' --home '$T/coord' form $id --lang en | grep -q 'evil.bin, 1000 B, kontum/op: CORRUPT'"
check "the chunks show as forms, with the file's hash" sh -c "'$NODE' --home '$T/coord' --json attachment --list >/dev/null && mid=\$(sqlite3 '$T/coord/ledger.db' \"select hex(message_id) from ledger where kind=18 limit 1\") && '$NODE' --home '$T/coord' form \$mid --lang en | grep -q 'BLAKE2b-256:'"
finish
