#!/usr/bin/env bash
# Roster and key handling through the real commands: bad signature, older
# version, expiry, another authority, revocation at the broker, key modes.
. "$(dirname "$0")/common.sh"
setup_network "$T" "$PORT" op:operator coord:coordinator mallory:operator
cp "$T/roster.bin" "$T/roster-v1.bin"

# version 2: same members
"$KEYS" roster-add --roster "$T/roster.json" --request "$T/coord.json" --roles coordinator \
  --name coord --org "Sở TT&TT" >/dev/null
"$KEYS" roster-sign --authority "$T/authority" --roster "$T/roster.json" --out "$T/roster-v2.bin" >/dev/null
check "a newer roster is accepted" "$NODE" --home "$T/op" roster-import "$T/roster-v2.bin"
check "an older roster is refused" sh -c "! '$NODE' --home '$T/op' roster-import '$T/roster-v1.bin' 2>'$T/err'"
check "... with a clear reason" grep -q 'older' "$T/err"

/usr/bin/python3 - "$T/roster-v2.bin" "$T/roster-bad.bin" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read()); b[len(b)//2] ^= 1
open(sys.argv[2], 'wb').write(b)
PY
check "a roster with a flipped byte is refused" sh -c "! '$NODE' --home '$T/coord' roster-import '$T/roster-bad.bin' 2>/dev/null"

"$KEYS" authority-init --dir "$T/evil" >/dev/null
"$KEYS" roster-sign --authority "$T/evil" --roster "$T/roster.json" --out "$T/roster-evil.bin" >/dev/null
check "a roster signed by another authority is refused" \
  sh -c "! '$NODE' --home '$T/coord' roster-import '$T/roster-evil.bin' 2>'$T/err' && grep -q 'bad signature' '$T/err'"

"$KEYS" roster-add --roster "$T/roster.json" --request "$T/coord.json" --roles coordinator \
  --name coord --org "Sở TT&TT" >/dev/null
"$KEYS" roster-sign --authority "$T/authority" --roster "$T/roster.json" --valid-days 1 --out "$T/roster-exp.bin" >/dev/null
check "an expired roster is refused (clock moved 2 days ahead)" sh -c "! IRNET_CLOCK_OFFSET_MS=172800000 '$NODE' --home '$T/coord' roster-import '$T/roster-exp.bin' 2>'$T/err' && grep -q expired '$T/err'"

# authority rotation: a new key certified by the old one is followed
"$KEYS" authority-init --dir "$T/authority2" >/dev/null
"$KEYS" rotate --old "$T/authority" --new "$T/authority2" --network kontum --out "$T/rot.bin"
"$KEYS" roster-add --roster "$T/roster.json" --request "$T/coord.json" --roles coordinator \
  --name coord --org "Sở TT&TT" >/dev/null
"$KEYS" roster-sign --authority "$T/authority2" --roster "$T/roster.json" --rotation "$T/rot.bin" --out "$T/roster-rot.bin" >/dev/null
"$KEYS" roster-sign --authority "$T/authority2" --roster "$T/roster.json" --out "$T/roster-norot.bin" >/dev/null
check "a roster from a new authority key without the old key's certificate is refused" \
  sh -c "! '$NODE' --home '$T/coord' roster-import '$T/roster-norot.bin' 2>/dev/null"
check "a roster from a new authority key certified by the old one is accepted" \
  "$NODE" --home "$T/coord" roster-import "$T/roster-rot.bin"
check "the ledger with the rotated roster verifies" "$NODE" --home "$T/coord" ledger verify

# revocation: the broker refuses the revoked member's handshake
"$KEYS" roster-revoke --roster "$T/roster.json" --id kontum/mallory >/dev/null
"$KEYS" roster-sign --authority "$T/authority2" --roster "$T/roster.json" --rotation "$T/rot.bin" --out "$T/roster-rev.bin" >/dev/null
"$BROKER" --home "$T/broker" roster-import "$T/roster-rev.bin" >/dev/null
"$NODE" --home "$T/mallory" roster-import "$T/roster-rev.bin" >/dev/null
start_broker "$T"
check "a revoked member's key fails the handshake" eq "$("$PROBE" --home "$T/mallory" handshake 2>/dev/null || true)" AUTH-FAILED
check "... logged as revoked" grep -q 'reason=revoked' "$T/broker.log"
"$NODE" --home "$T/op" roster-import "$T/roster-rev.bin" >/dev/null
check "a current member still connects" eq "$("$PROBE" --home "$T/op" handshake 2>/dev/null || true)" CONNECTED

# key files wider than 0600 are refused
chmod 0644 "$T/coord/keys/sign.key"
check "a daemon refuses a key file readable by others" sh -c "! '$NODE' --home '$T/coord' run >/dev/null 2>'$T/err'"
check "... saying why" grep -q 'wider than 0600' "$T/err"
chmod 0600 "$T/coord/keys/sign.key"
finish
