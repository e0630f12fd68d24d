"""Independent, minimal irnet protocol codec, written from docs/PROTOCOL.md only.

Nothing here calls or imports the project's C code. Protobuf (proto2) is
encoded and decoded by hand: varints and length-delimited fields are all the
irnet messages need. Required fields are always written, even at their
default value (PROTOCOL.md §3 rule 1).

Run with Debian's interpreter: /usr/bin/python3 irnet_wire.py selftest
"""

import hashlib
import os
import struct
import sys
import time

import nacl.bindings
import nacl.exceptions
import nacl.signing

# ---------------------------------------------------------------------------
# Constants (PROTOCOL.md §8, §9.2)
# ---------------------------------------------------------------------------

PROTOCOL_VERSION = 1
MAX_FRAME_IN = 262144
MAX_ENVELOPE = 262080
MAX_PAYLOAD = 196608
MAX_FUTURE_MS = 300000

ROLE = {"operator": 1, "owner": 2, "coordinator": 3, "responder": 4,
        "steering": 5, "national": 6, "authority": 7, "broker": 8}

KIND_INITIAL_REPORT = 1
KIND_PROGRESS_REPORT = 2
KIND_NOTE = 19
KIND_ACKNOWLEDGEMENT = 14
KIND_RECEIPT = 20
KIND_ERROR = 21

TLP_AMBER = 2

ERR_NAMES = {
    0: "ERR_NONE", 1: "ERR_MALFORMED", 2: "ERR_SIGNER_MISMATCH",
    3: "ERR_UNKNOWN_MEMBER", 4: "ERR_REVOKED", 5: "ERR_FORBIDDEN_KIND",
    6: "ERR_BAD_SIGNATURE", 7: "ERR_SENDER_MISMATCH",
    8: "ERR_DUPLICATE_CONFLICT", 9: "ERR_REPLAY", 10: "ERR_FUTURE",
    11: "ERR_WRONG_NETWORK", 12: "ERR_RATE_LIMITED", 13: "ERR_STORAGE",
    14: "ERR_BAD_RECIPIENT", 15: "ERR_OVERSIZE",
    # in proto/irnet.proto but not (yet) in PROTOCOL.md
    16: "ERR_NOT_ALLOWED", 17: "ERR_SESSION_EXISTS",
}
ERR = {v: k for k, v in ERR_NAMES.items()}

DOMAIN_ENVELOPE = b"IRNET-ENVELOPE-V1"
DOMAIN_ROSTER = b"IRNET-ROSTER-V1"
DOMAIN_ROTATION = b"IRNET-AUTHORITY-ROTATION-V1"

# Packet oneof field numbers (§6.1; 9 query / 10 answer are in the .proto)
PKT_NAMES = {1: "hello", 2: "welcome", 3: "submit", 4: "receipt", 5: "error",
             6: "deliver", 7: "ack", 8: "heartbeat", 9: "query", 10: "answer"}


class DecodeError(Exception):
    pass


# ---------------------------------------------------------------------------
# Protobuf primitives
# ---------------------------------------------------------------------------

def varint(n):
    """Encode an integer as a protobuf varint. Negative numbers are int64
    two's complement (10 bytes)."""
    if n < 0:
        n += 1 << 64
    if n < 0 or n >= 1 << 64:
        raise ValueError("varint out of range")
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(field, wt):
    return varint((field << 3) | wt)


def f_uint(field, n):
    return tag(field, 0) + varint(int(n))


def f_bool(field, b):
    return tag(field, 0) + (b"\x01" if b else b"\x00")


def f_bytes(field, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return tag(field, 2) + varint(len(data)) + bytes(data)


def read_varint(buf, pos):
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise DecodeError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
        if shift >= 70:
            raise DecodeError("varint too long")
    if result >= 1 << 64:
        raise DecodeError("varint overflow")
    return result, pos


def parse(buf):
    """Parse one message level into a list of (field, wiretype, value).
    value is an int for varint/fixed, bytes for length-delimited."""
    buf = bytes(buf)
    out = []
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        field, wt = key >> 3, key & 7
        if field == 0:
            raise DecodeError("field number 0")
        if wt == 0:
            v, pos = read_varint(buf, pos)
        elif wt == 1:
            if pos + 8 > len(buf):
                raise DecodeError("truncated fixed64")
            v = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wt == 2:
            ln, pos = read_varint(buf, pos)
            if pos + ln > len(buf):
                raise DecodeError("truncated length-delimited field")
            v = buf[pos:pos + ln]
            pos += ln
        elif wt == 5:
            if pos + 4 > len(buf):
                raise DecodeError("truncated fixed32")
            v = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise DecodeError("unsupported wire type %d" % wt)
        out.append((field, wt, v))
    return out


def _s64(n):
    return n - (1 << 64) if n >= 1 << 63 else n


class Schema:
    """Tiny declarative decoder: {field: (name, type, label)}.
    type: 'u' (unsigned varint), 'i' (int64), 'b' (bool), 'y' (bytes),
    's' (string), or a Schema for a sub-message. label: 'R', 'O', '*'."""

    def __init__(self, name, fields):
        self.name = name
        self.fields = fields

    def decode(self, buf):
        msg = {}
        for num, (fname, ftype, label) in self.fields.items():
            if label == "*":
                msg[fname] = []
        for field, wt, v in parse(buf):
            if field not in self.fields:
                msg.setdefault("_unknown", []).append(field)
                continue
            fname, ftype, label = self.fields[field]
            if ftype in ("u", "i", "b"):
                if wt == 2 and label == "*":  # packed repeated
                    vals = []
                    p = 0
                    while p < len(v):
                        x, p = read_varint(v, p)
                        vals.append(x)
                    msg[fname].extend(vals)
                    continue
                if wt != 0:
                    raise DecodeError("%s.%s: wrong wire type" % (self.name, fname))
                if ftype == "i":
                    v = _s64(v)
                elif ftype == "b":
                    v = bool(v)
            else:
                if wt != 2:
                    raise DecodeError("%s.%s: wrong wire type" % (self.name, fname))
                if ftype == "s":
                    v = v.decode("utf-8")  # strict: raises on bad UTF-8
                elif isinstance(ftype, Schema):
                    v = ftype.decode(v)
            if label == "*":
                msg[fname].append(v)
            else:
                msg[fname] = v  # proto2: last one wins
        for num, (fname, ftype, label) in self.fields.items():
            if label == "R" and fname not in msg:
                raise DecodeError("%s: required field %s missing" % (self.name, fname))
        return msg


ENVELOPE = Schema("Envelope", {1: ("signer_key_id", "y", "R"), 2: ("body", "y", "R"),
                               3: ("signature", "y", "R")})
HEADER = Schema("Header", {
    1: ("version", "u", "R"), 2: ("message_id", "y", "R"), 3: ("sender", "s", "R"),
    4: ("to_members", "s", "*"), 5: ("to_roles", "u", "*"), 6: ("sequence", "u", "R"),
    7: ("created_ms", "i", "R"), 8: ("kind", "u", "R"), 9: ("exercise", "b", "R"),
    10: ("tlp", "u", "R"), 11: ("in_reply_to", "y", "O"),
    12: ("signed_by_person", "s", "O"), 13: ("local_account", "s", "O")})
BODY = Schema("Body", {1: ("header", HEADER, "R"), 2: ("payload", "y", "R")})
RECEIPT = Schema("Receipt", {
    1: ("envelope_hash", "y", "R"), 2: ("message_id", "y", "R"), 3: ("sender", "s", "R"),
    4: ("accepted_ms", "i", "R"), 5: ("ledger_index", "u", "R"),
    6: ("roster_version", "u", "R"), 7: ("expected_sequence", "u", "O"),
    8: ("roster_hash", "y", "O"), 9: ("path", "y", "*"), 10: ("batch_root", "y", "O")})
BATCH_ROOT = Schema("BatchRoot", {
    1: ("root", "y", "R"), 2: ("first_index", "u", "R"), 3: ("count", "u", "R"),
    4: ("roster_version", "u", "R"), 5: ("roster_hash", "y", "O")})
ERROR_REPLY = Schema("ErrorReply", {1: ("code", "u", "R"), 2: ("message_id", "y", "O"),
                                    3: ("detail", "s", "O")})
MEMBER = Schema("Member", {
    1: ("id", "s", "R"), 2: ("display_name", "s", "R"), 3: ("organisation", "s", "R"),
    4: ("roles", "u", "*"), 5: ("sign_pk", "y", "R"), 6: ("transport_pk", "y", "R"),
    7: ("valid_from_ms", "i", "R"), 8: ("valid_until_ms", "i", "R"),
    9: ("revoked", "b", "R"), 10: ("revoked_ms", "i", "O"), 11: ("endpoint", "s", "O")})
ROSTER_BODY = Schema("RosterBody", {
    1: ("network", "s", "R"), 2: ("version", "u", "R"), 3: ("issued_ms", "i", "R"),
    4: ("expires_ms", "i", "R"), 5: ("authority_pk", "y", "R"), 6: ("members", MEMBER, "*")})
ROTATION = Schema("AuthorityRotation", {1: ("old_pk", "y", "R"), 2: ("new_pk", "y", "R"),
                                        3: ("signature", "y", "R")})
SIGNED_ROSTER = Schema("SignedRoster", {1: ("body", "y", "R"), 2: ("signature", "y", "R"),
                                        3: ("rotations", ROTATION, "*")})
HELLO = Schema("Hello", {1: ("version", "u", "R"), 2: ("roster_version", "u", "R"),
                         3: ("delivered_upto", "u", "R")})
WELCOME = Schema("Welcome", {1: ("roster_version", "u", "R"), 2: ("broker_time_ms", "i", "R"),
                             3: ("roster", "y", "O"), 4: ("last_sequence", "u", "R")})
DELIVER = Schema("Deliver", {1: ("ledger_index", "u", "R"), 2: ("envelope", "y", "R"),
                             3: ("receipt", "y", "R"), 4: ("prev_index", "u", "R")})
ACK = Schema("Ack", {1: ("upto", "u", "R")})
HEARTBEAT = Schema("Heartbeat", {1: ("time_ms", "i", "R"), 2: ("roster_version", "u", "R")})

_PKT_SUB = {1: HELLO, 2: WELCOME, 6: DELIVER, 7: ACK, 8: HEARTBEAT}


# ---------------------------------------------------------------------------
# Hashes, key ids, signatures (§2.4, §2.5, §4)
# ---------------------------------------------------------------------------

def hash256(data):
    return hashlib.blake2b(data, digest_size=32).digest()


def key_id(sign_pk):
    return hashlib.blake2b(sign_pk, digest_size=16).digest()


def fingerprint(sign_pk):
    h = key_id(sign_pk).hex()
    return ":".join(h[i:i + 4] for i in range(0, 32, 4))


def signed_message(domain, network, data):
    net = network.encode("ascii") if isinstance(network, str) else network
    if len(net) > 255:
        raise ValueError("network id too long")
    return domain + b"\x00" + bytes([len(net)]) + net + data


def verify(pk, domain, network, data, sig):
    try:
        nacl.signing.VerifyKey(pk).verify(signed_message(domain, network, data), sig)
        return True
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False


class Signer:
    """An Ed25519 key from a libsodium 64-byte secret (seed || pk) or a seed."""

    def __init__(self, secret):
        if len(secret) == 64:
            seed, pk = secret[:32], secret[32:]
        elif len(secret) == 32:
            seed, pk = secret, None
        else:
            raise ValueError("Ed25519 secret must be 32 or 64 bytes")
        self.sk = nacl.signing.SigningKey(seed)
        self.pk = bytes(self.sk.verify_key)
        if pk is not None and pk != self.pk:
            raise ValueError("sign.key: public half does not match the seed")
        self.key_id = key_id(self.pk)

    def sign(self, domain, network, data):
        return self.sk.sign(signed_message(domain, network, data)).signature


# ---------------------------------------------------------------------------
# Encoders (§7)
# ---------------------------------------------------------------------------

def encode_header(message_id, sender, sequence, created_ms, kind, to_members=(),
                  to_roles=(), exercise=False, tlp=TLP_AMBER, version=PROTOCOL_VERSION,
                  in_reply_to=None, signed_by_person=None, local_account=None):
    out = f_uint(1, version) + f_bytes(2, message_id) + f_bytes(3, sender)
    for m in to_members:
        out += f_bytes(4, m)
    for r in to_roles:  # unpacked, as protobuf-c writes proto2 repeated scalars
        out += f_uint(5, r)
    out += f_uint(6, sequence) + f_uint(7, created_ms) + f_uint(8, kind)
    out += f_bool(9, exercise) + f_uint(10, tlp)
    if in_reply_to is not None:
        out += f_bytes(11, in_reply_to)
    if signed_by_person is not None:
        out += f_bytes(12, signed_by_person)
    if local_account is not None:
        out += f_bytes(13, local_account)
    return out


def encode_body(header, payload):
    return f_bytes(1, header) + f_bytes(2, payload)


def encode_envelope(signer_key_id, body, signature):
    return f_bytes(1, signer_key_id) + f_bytes(2, body) + f_bytes(3, signature)


def sign_envelope(signer, network, body):
    """Envelope bytes for body, signed by signer for network."""
    return encode_envelope(signer.key_id, body, signer.sign(DOMAIN_ENVELOPE, network, body))


def encode_contact(name=None, position=None, address=None, phone=None, email=None):
    out = b""
    for i, v in enumerate((name, position, address, phone, email), 1):
        if v is not None:
            out += f_bytes(i, v)
    return out


def encode_initial_report(organisation, system_name, summary, security_level=3,
                          category=102, detected_ms=None, reported_ms=None,
                          handled=False, confidential=False, can_handle_alone=True):
    """A minimal Form 03: every required field of §7.5, nothing else but
    can_handle_alone (the node daemon always encodes it)."""
    now = int(time.time() * 1000)
    out = f_bytes(1, encode_contact(name=organisation))
    out += f_bytes(2, encode_contact())          # required, may be empty
    out += f_bytes(5, system_name)
    out += f_uint(6, security_level)
    out += f_bytes(10, summary)
    out += f_uint(11, category)
    out += f_uint(12, detected_ms or now - 60000)
    out += f_bool(13, handled)
    out += f_bool(24, confidential)
    out += f_uint(26, reported_ms or now)
    out += f_bool(32, can_handle_alone)
    return out


def encode_receipt(envelope_hash, message_id, sender, accepted_ms, ledger_index, roster_version,
                   expected_sequence=None, roster_hash=None, path=(), batch_root=None):
    """A Receipt (§7.10). Without path and batch_root: the receipt's leaf."""
    out = (f_bytes(1, envelope_hash) + f_bytes(2, message_id) + f_bytes(3, sender)
           + f_uint(4, accepted_ms) + f_uint(5, ledger_index) + f_uint(6, roster_version))
    if expected_sequence is not None:
        out += f_uint(7, expected_sequence)
    if roster_hash is not None:
        out += f_bytes(8, roster_hash)
    for p in path:
        out += f_bytes(9, p)
    if batch_root is not None:
        out += f_bytes(10, batch_root)
    return out


def encode_batch_root(root, first_index, count, roster_version, roster_hash=None):
    out = f_bytes(1, root) + f_uint(2, first_index) + f_uint(3, count) + f_uint(4, roster_version)
    if roster_hash is not None:
        out += f_bytes(5, roster_hash)
    return out


def receipt_leaf(rc):
    """The leaf of a decoded Receipt: fields 1-8 re-encoded canonically."""
    return encode_receipt(rc["envelope_hash"], rc["message_id"], rc["sender"], rc["accepted_ms"],
                          rc["ledger_index"], rc["roster_version"], rc.get("expected_sequence"),
                          rc.get("roster_hash"))


# ---------------------------------------------------------------------------
# Merkle tree of a commit batch (§6.3): RFC 9162 shape, BLAKE2b-256
# ---------------------------------------------------------------------------

MERKLE_MAX_PATH = 32
MERKLE_MAX_LEAVES = 65536


def merkle_leaf(leaf):
    return hashlib.blake2b(b"\x00" + leaf, digest_size=32).digest()


def merkle_node(left, right):
    return hashlib.blake2b(b"\x01" + left + right, digest_size=32).digest()


def merkle_levels(leaf_hashes):
    """Every level, bottom up: pairs hashed, an odd last node carried up."""
    levels = [list(leaf_hashes)]
    while len(levels[-1]) > 1:
        lv = levels[-1]
        levels.append([merkle_node(lv[i], lv[i + 1]) if i + 1 < len(lv) else lv[i]
                       for i in range(0, len(lv), 2)])
    return levels


def merkle_root(leaf_hashes):
    return merkle_levels(leaf_hashes)[-1][0]


def merkle_path(leaf_hashes, m):
    path = []
    for lv in merkle_levels(leaf_hashes)[:-1]:
        if m ^ 1 < len(lv):
            path.append(lv[m ^ 1])
        m >>= 1
    return path


def merkle_verify(root, leaf_hash, m, n, path):
    """Written from the spec, not from merkle_path: walk up from the leaf; at
    each level a sibling exists unless we are the last node and even."""
    if not (1 <= n <= MERKLE_MAX_LEAVES) or not (0 <= m < n) or len(path) > MERKLE_MAX_PATH:
        return False
    r, fn, sn, i = leaf_hash, m, n - 1, 0
    while sn > 0:
        if fn & 1 or fn < sn:
            if i == len(path) or len(path[i]) != 32:
                return False
            r = merkle_node(path[i], r) if fn & 1 else merkle_node(r, path[i])
            i += 1
        fn >>= 1
        sn >>= 1
    return i == len(path) and r == root


def pkt_hello(roster_version, delivered_upto, version=PROTOCOL_VERSION):
    return f_bytes(1, f_uint(1, version) + f_uint(2, roster_version) + f_uint(3, delivered_upto))


def pkt_submit(envelope):
    return f_bytes(3, envelope)


def pkt_ack(upto):
    return f_bytes(7, f_uint(1, upto))


def pkt_heartbeat(time_ms, roster_version):
    return f_bytes(8, f_uint(1, time_ms) + f_uint(2, roster_version))


# ---------------------------------------------------------------------------
# Decoders
# ---------------------------------------------------------------------------

def decode_packet(frame):
    """Return (name, value): value is a dict for sub-messages, bytes for
    submit/receipt/error. Raises DecodeError if the oneof is not exactly one."""
    fields = [(f, wt, v) for f, wt, v in parse(frame) if f in PKT_NAMES]
    if not fields:
        return ("none", None)
    f, wt, v = fields[-1]  # oneof: last one wins
    if wt != 2:
        raise DecodeError("packet field with wrong wire type")
    name = PKT_NAMES[f]
    if f in _PKT_SUB:
        return (name, _PKT_SUB[f].decode(v))
    return (name, v)


def decode_envelope(data):
    env = ENVELOPE.decode(data)
    body = BODY.decode(env["body"])
    env["header"] = body["header"]
    env["payload"] = body["payload"]
    return env


def decode_roster(data):
    sr = SIGNED_ROSTER.decode(data)
    sr["parsed"] = ROSTER_BODY.decode(sr["body"])
    return sr


def verify_roster(data, authority_pk, network):
    """Verify a SignedRoster per §14.2 (signature walk, network, authority key).
    Returns the decoded RosterBody. Raises ValueError on failure."""
    sr = decode_roster(data)
    k = authority_pk
    for rot in sr["rotations"]:
        if len(rot["old_pk"]) != 32 or len(rot["new_pk"]) != 32 or len(rot["signature"]) != 64:
            raise ValueError("roster: bad rotation link")
        if rot["old_pk"] != k:
            continue
        if not verify(k, DOMAIN_ROTATION, network, rot["old_pk"] + rot["new_pk"], rot["signature"]):
            raise ValueError("roster: rotation signature does not verify")
        k = rot["new_pk"]
    if not verify(k, DOMAIN_ROSTER, network, sr["body"], sr["signature"]):
        raise ValueError("roster: signature does not verify")
    rb = sr["parsed"]
    if rb["network"] != network or rb["authority_pk"] != k:
        raise ValueError("roster: wrong network or authority key")
    return rb


def check_broker_envelope(data, broker, network, kind):
    """Verify an envelope the broker signed (a batch root or an error reply)
    with our own code: key id, Ed25519 signature over the exact body bytes,
    sender and kind. broker is the broker's roster Member dict. Returns the
    decoded envelope with 'reply' holding the decoded BatchRoot or ErrorReply."""
    env = decode_envelope(data)
    if env["signer_key_id"] != key_id(broker["sign_pk"]):
        raise ValueError("reply not signed by the broker's key id")
    if len(env["signature"]) != 64 or not verify(broker["sign_pk"], DOMAIN_ENVELOPE, network,
                                                 env["body"], env["signature"]):
        raise ValueError("broker signature on the reply does not verify")
    h = env["header"]
    if h["sender"] != broker["id"]:
        raise ValueError("reply header.sender %r is not the broker" % h["sender"])
    if h["kind"] != kind:
        raise ValueError("reply kind %d, expected %d" % (h["kind"], kind))
    if h["version"] != 1 or len(h["message_id"]) != 16:
        raise ValueError("reply header invalid")
    if h["created_ms"] > int(time.time() * 1000) + MAX_FUTURE_MS:
        raise ValueError("reply from the future")
    env["reply"] = (BATCH_ROOT if kind == KIND_RECEIPT else ERROR_REPLY).decode(env["payload"])
    return env


def check_broker_receipt(data, broker, network, roots=None):
    """Verify a batch-signed receipt (§6.3) with our own code: canonical
    Receipt, the inclusion path from its leaf to BatchRoot.root at position
    ledger_index - first_index, then the batch root: an envelope of kind
    RECEIPT signed by the broker (check_broker_envelope). roots: a set of
    batch-root envelopes already verified (each batch signature checked once).
    Returns the decoded Receipt with 'batch' (the decoded BatchRoot) and
    'root_env' (the decoded batch-root envelope)."""
    rc = RECEIPT.decode(data)
    if "_unknown" in rc:
        raise ValueError("receipt has unknown fields")
    leaf = receipt_leaf(rc)
    if encode_receipt(rc["envelope_hash"], rc["message_id"], rc["sender"], rc["accepted_ms"],
                      rc["ledger_index"], rc["roster_version"], rc.get("expected_sequence"),
                      rc.get("roster_hash"), rc["path"], rc.get("batch_root")) != data:
        raise ValueError("receipt not canonical")
    if len(rc["envelope_hash"]) != 32 or len(rc["message_id"]) != 16 or rc["ledger_index"] < 1:
        raise ValueError("bad receipt")
    if "batch_root" not in rc:
        raise ValueError("receipt without a batch root")
    env = decode_envelope(rc["batch_root"])
    if env["header"]["kind"] != KIND_RECEIPT:
        raise ValueError("batch root of kind %d" % env["header"]["kind"])
    br = BATCH_ROOT.decode(env["payload"])
    if encode_batch_root(br["root"], br["first_index"], br["count"], br["roster_version"],
                         br.get("roster_hash")) != env["payload"]:
        raise ValueError("batch root not canonical")
    if len(br["root"]) != 32 or br["first_index"] < 1 or not 1 <= br["count"] <= MERKLE_MAX_LEAVES:
        raise ValueError("bad batch root")
    pos = rc["ledger_index"] - br["first_index"]
    if not 0 <= pos < br["count"]:
        raise ValueError("receipt outside its batch")
    if br["roster_version"] != rc["roster_version"]:
        raise ValueError("receipt and batch root name different rosters")
    if not merkle_verify(br["root"], merkle_leaf(leaf), pos, br["count"], rc["path"]):
        raise ValueError("inclusion path does not lead to the signed batch root")
    if roots is None or rc["batch_root"] not in roots:
        e = check_broker_envelope(rc["batch_root"], broker, network, KIND_RECEIPT)
        if e["header"]["to_members"] or e["header"]["to_roles"]:
            raise ValueError("batch root addressed to someone")
        if roots is not None:
            roots.add(rc["batch_root"])
    rc["batch"] = br
    rc["root_env"] = env
    return rc


# ---------------------------------------------------------------------------
# Member homes (§2.3) and config
# ---------------------------------------------------------------------------

def read_conf(home):
    conf = {}
    with open(os.path.join(home, "irnet.conf"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or line.startswith("["):
                continue
            if "=" in line:
                k, v = line.split("=", 1)
                conf[k.strip()] = v.strip()
    return conf


class Identity:
    """A member's keys and id, read from HOME (keys/sign.key, keys/transport.key)."""

    def __init__(self, home=None, member_id=None, sign_secret=None, transport_secret=None):
        if home is not None:
            with open(os.path.join(home, "keys", "sign.key"), "rb") as f:
                sign_secret = f.read()
            with open(os.path.join(home, "keys", "transport.key"), "rb") as f:
                transport_secret = f.read()
            conf = read_conf(home)
            member_id = member_id or conf["id"]
            self.conf = conf
        else:
            self.conf = {}
        if len(transport_secret) != 32:
            raise ValueError("transport.key must be 32 bytes")
        self.id = member_id
        self.signer = Signer(sign_secret)
        self.transport_sk = transport_secret
        self.transport_pk = nacl.bindings.crypto_scalarmult_base(transport_secret)

    @classmethod
    def random(cls, member_id="kontum/nobody"):
        return cls(member_id=member_id, sign_secret=os.urandom(32),
                   transport_secret=os.urandom(32))


# ---------------------------------------------------------------------------
# Self test against the vectors of PROTOCOL.md §16
# ---------------------------------------------------------------------------

def selftest():
    seed = bytes(range(32))
    s = Signer(seed)
    assert s.pk.hex() == "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
    assert s.key_id.hex() == "40bca4eaf9d2b097ff8dbaa4d61767ed"
    assert fingerprint(s.pk) == "40bc:a4ea:f9d2:b097:ff8d:baa4:d617:67ed"
    assert signed_message(DOMAIN_ENVELOPE, "kontum", b"").hex() == \
        "49524e45542d454e56454c4f50452d563100066b6f6e74756d"
    hdr = encode_header(bytes(range(0xa0, 0xb0)), "kontum/so-tttt", 1, 1764057600000, 14,
                        to_roles=[3], exercise=True, tlp=2)
    body = encode_body(hdr, b"ok")
    assert len(body) == 59
    assert body.hex() == ("0a3508011210a0a1a2a3a4a5a6a7a8a9aaabacadaeaf1a0e6b6f6e74756d2f736f2d"
                          "74747474280330013880a09bd0ab33400e4801500212026f6b"), body.hex()
    sig = s.sign(DOMAIN_ENVELOPE, "kontum", body)
    assert sig.hex() == ("095eb91c2c0366b5da29fe40eb397572d6cb4e89d58fddeffd3e1168e8da3109"
                         "7a04c34d4f8c4fafbf479ee6cb385ec60a571ccda25aa7f94fbc4822d6771309")
    env = sign_envelope(s, "kontum", body)
    assert len(env) == 145
    assert env.hex() == (
        "0a1040bca4eaf9d2b097ff8dbaa4d61767ed123b0a3508011210a0a1a2a3a4a5a6a7a8a9aaabacad"
        "aeaf1a0e6b6f6e74756d2f736f2d74747474280330013880a09bd0ab33400e4801500212026f6b1a"
        "40095eb91c2c0366b5da29fe40eb397572d6cb4e89d58fddeffd3e1168e8da31097a04c34d4f8c4f"
        "afbf479ee6cb385ec60a571ccda25aa7f94fbc4822d6771309")
    assert hash256(env).hex() == "ec39ceb4c55e531609f81f7df3999df481d4d4cac9d036223822cdcf17e5d0cf"
    assert pkt_submit(env)[:3].hex() == "1a9101" and len(pkt_submit(env)) == 148
    assert pkt_hello(3, 0).hex() == "0a06080110031800"
    assert pkt_ack(7).hex() == "3a020807"
    d = decode_envelope(env)
    assert d["header"]["sender"] == "kontum/so-tttt" and d["header"]["to_roles"] == [3]
    assert d["header"]["created_ms"] == 1764057600000 and d["header"]["exercise"] is True
    assert verify(s.pk, DOMAIN_ENVELOPE, "kontum", d["body"], d["signature"])
    assert not verify(s.pk, DOMAIN_ENVELOPE, "kontum-x", d["body"], d["signature"])
    # ledger entry hash (§15.2)
    h = hashlib.blake2b(digest_size=32)
    for part in (b"IRNET-LEDGER-V1\x00", struct.pack(">Q", 1), bytes(32), b"\x02",
                 struct.pack(">q", 1764057601234), struct.pack(">Q", 3),
                 struct.pack(">I", len(env)), env, struct.pack(">I", 0)):
        h.update(part)
    assert h.hexdigest() == "905ba71f954322d00d1f620ee143aa8362af2f42c59ffae213ee4ba60f3fa9fb"
    # batch-signed receipt (§16 "Batch-signed receipt"): three leaves
    rh = bytes(range(32, 64))
    leaves = []
    for i in range(3):
        eh = hash256(env) if i == 0 else bytes([0xe0 + i]) * 32
        leaves.append(encode_receipt(eh, bytes(range(0xa0 + 16 * i, 0xb0 + 16 * i)),
                                     "kontum/so-tttt", 1764057601234 + i, 1 + i, 3, roster_hash=rh))
    assert [len(x) for x in leaves] == [113] * 3
    lh = [merkle_leaf(x) for x in leaves]
    assert lh[0].hex() == "65b1d4fba7be37f6807ff842f44359af67f93caed946f94ed9ca8aa628707d06"
    assert lh[2].hex() == "8ff64b6e838a4e4edcde3c80438105507567e775261b7d89b2922290ca36ea41"
    root = merkle_root(lh)
    assert root.hex() == "ffdbbf520c551d57849f801dbd5ee313bb5890e2c20c9089ecd54872e375eca4"
    assert merkle_node(merkle_node(lh[0], lh[1]), lh[2]) == root  # leaf 2 carried up
    assert [p.hex() for p in merkle_path(lh, 2)] == [
        "c195011ae0495d3cc47670a3f51fa5428af79145af77f29d44a587d9e383029e"]
    for m in range(3):
        assert merkle_verify(root, lh[m], m, 3, merkle_path(lh, m))
        assert not merkle_verify(root, lh[m], (m + 1) % 3, 3, merkle_path(lh, m))
    br = encode_batch_root(root, 1, 3, 3, rh)
    assert len(br) == 74
    benv = sign_envelope(s, "kontum", encode_body(encode_header(
        bytes(range(0xd0, 0xe0)), "kontum/so-tttt", 1, 1764057602000, KIND_RECEIPT,
        exercise=False, tlp=2), br))
    assert len(benv) == 216
    assert hash256(benv).hex() == "c926af4d1658d9ff931840236e0cd8e53fe0b2460c52a378e68a3bfb6fa49866"
    rc2 = encode_receipt(bytes([0xe2]) * 32, bytes(range(0xc0, 0xd0)), "kontum/so-tttt",
                         1764057601236, 3, 3, roster_hash=rh, path=merkle_path(lh, 2),
                         batch_root=benv)
    assert len(rc2) == 366
    assert hash256(rc2).hex() == "d048ed8d992fda8de59356c5b6a27222b815db8668e628be9091e6a6d2c4eae0"
    me = {"id": "kontum/so-tttt", "sign_pk": s.pk}
    roots = set()
    assert check_broker_receipt(rc2, me, "kontum", roots)["ledger_index"] == 3
    assert roots == {benv}
    for i in range(0, len(rc2)):  # every byte, one bit each: nothing else verifies
        bad = bytearray(rc2)
        bad[i] ^= 1 << (i % 8)
        try:
            check_broker_receipt(bytes(bad), me, "kontum")
            raise AssertionError("tampered receipt verifies (byte %d)" % i)
        except (ValueError, DecodeError, UnicodeDecodeError):
            pass
    # negative int64 round trip, required-field enforcement, garbage
    assert _s64(read_varint(varint(-5), 0)[0]) == -5
    try:
        HEADER.decode(f_uint(1, 1))
        raise AssertionError("missing required fields not detected")
    except DecodeError:
        pass
    for junk in (b"\x1a\x7fabc", b"\x07", b"\x00\x01"):
        try:
            parse(junk)
            raise AssertionError("garbage parsed: %r" % junk)
        except DecodeError:
            pass
    print("irnet_wire selftest: all PROTOCOL.md §16 vectors match")


if __name__ == "__main__":
    if sys.argv[1:] == ["selftest"]:
        selftest()
    else:
        print(__doc__)
