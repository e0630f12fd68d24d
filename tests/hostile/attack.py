#!/usr/bin/python3
"""Hostile client for irnet, written from docs/PROTOCOL.md only.

Runs a list of attacks against a live broker and prints one line per attack:
name, expected outcome, observed outcome, PASS/FAIL. Exit status 1 if any
attack FAILs. Afterwards it checks that nothing refused reached the broker's
ledger or the recipient node's ledger.

Status per line: PASS, FAIL (refused otherwise than the protocol says, or not
refused at all: a finding), or NOTE (differs from PROTOCOL.md in a way judged
harmless; see the comment at the check; does not fail the run).

Usage (Debian's python3 with python3-zmq and python3-nacl):
  /usr/bin/python3 attack.py --dir T [--attacker mallory] [--victim op]
                             [--responder resp] [--recipient coord]
T is a test directory made by scripts/lib.sh setup_network: it holds
roster.bin, authority/, broker/ and one home per member. The victim's node
daemon must be running (attack p); so must the recipient's (it is the
delivery target of every attack message).
"""

import argparse
import os
import sqlite3
import sys
import time

import zmq
import zmq.utils.monitor
import zmq.utils.z85

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import irnet_wire as w  # noqa: E402

ROLE_COORD = w.ROLE["coordinator"]

EVENT_NAMES = {getattr(zmq, n): n[6:] for n in dir(zmq) if n.startswith("EVENT_")
               and n not in ("EVENT_ALL", "EVENT_ALL_V1", "EVENT_ALL_V2")
               and isinstance(getattr(zmq, n), int)}


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------------------
# One CURVE client connection (a DEALER, as §5.1 requires)
# ---------------------------------------------------------------------------

class Conn:
    def __init__(self, ctx, endpoint, server_pk, ident):
        self.ident = ident
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RECONNECT_IVL, -1)     # a cut connection stays cut
        s.setsockopt(zmq.SNDHWM, 1000)
        s.setsockopt(zmq.SNDTIMEO, 2000)       # a cut connection must not hang us
        s.setsockopt(zmq.MAXMSGSIZE, 16 * 1024 * 1024)
        s.curve_serverkey = zmq.utils.z85.encode(server_pk)
        s.curve_publickey = zmq.utils.z85.encode(ident.transport_pk)
        s.curve_secretkey = zmq.utils.z85.encode(ident.transport_sk)
        self.mon = s.get_monitor_socket()
        self.sock = s
        self.events = []        # names, in order
        self.packets = []       # received frames lists, not yet consumed
        s.connect(endpoint)

    def _pump(self, timeout):
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        poller.register(self.mon, zmq.POLLIN)
        got = dict(poller.poll(int(timeout * 1000)))
        if self.mon in got:
            while True:
                try:
                    ev = zmq.utils.monitor.recv_monitor_message(self.mon, zmq.NOBLOCK)
                except zmq.Again:
                    break
                self.events.append(EVENT_NAMES.get(ev["event"], str(ev["event"])))
        if self.sock in got:
            while True:
                try:
                    self.packets.append(self.sock.recv_multipart(zmq.NOBLOCK))
                except zmq.Again:
                    break
        return bool(got)

    def wait_event(self, names, timeout):
        """Wait until one of names has been seen; return it, or None."""
        end = time.time() + timeout
        while True:
            for e in self.events:
                if e in names:
                    return e
            left = end - time.time()
            if left <= 0:
                return None
            self._pump(min(left, 0.1))

    def handshake(self, timeout=5):
        e = self.wait_event({"HANDSHAKE_SUCCEEDED", "HANDSHAKE_FAILED_AUTH",
                             "HANDSHAKE_FAILED_PROTOCOL", "HANDSHAKE_FAILED_NO_DETAIL"},
                            timeout)
        return e or "TIMEOUT"

    def send(self, frames):
        """Send; False if the socket has no connection to send on."""
        if isinstance(frames, bytes):
            frames = [frames]
        try:
            self.sock.send_multipart(frames)
            return True
        except zmq.Again:
            return False

    def next_packet(self, timeout, want=("receipt", "error", "welcome")):
        """Next packet whose type is in want; other packets (deliveries) are
        skipped. Returns (name, value, frames) or None on timeout."""
        end = time.time() + timeout
        while True:
            while self.packets:
                frames = self.packets.pop(0)
                if len(frames) != 1:
                    return ("multiframe", frames, frames)
                try:
                    name, val = w.decode_packet(frames[0])
                except w.DecodeError as e:
                    return ("undecodable", str(e), frames)
                if name in want:
                    return (name, val, frames)
            left = end - time.time()
            if left <= 0:
                return None
            self._pump(min(left, 0.1))

    def close(self):
        try:
            self.sock.disable_monitor()
        except zmq.ZMQError:
            pass
        self.mon.close(0)
        self.sock.close(0)


# ---------------------------------------------------------------------------
# The attack run
# ---------------------------------------------------------------------------

class Run:
    def __init__(self, args):
        self.args = args
        d = args.dir
        self.dir = d
        self.att = w.Identity(os.path.join(d, args.attacker))
        self.vic = w.Identity(os.path.join(d, args.victim))
        self.resp = w.Identity(os.path.join(d, args.responder))
        self.rcpt_home = os.path.join(d, args.recipient)
        self.network = self.att.conf["network"]
        self.endpoint = self.att.conf["broker"]
        broker_id = self.att.conf["broker_id"]
        roster_bytes = open(os.path.join(d, "roster.bin"), "rb").read()
        auth_pub = os.path.join(d, "authority", "sign.pub")
        if os.path.exists(auth_pub):
            apk = bytes.fromhex(open(auth_pub).read().strip())
            rb = w.verify_roster(roster_bytes, apk, self.network)
        else:
            rb = w.decode_roster(roster_bytes)["parsed"]
        self.roster = {m["id"]: m for m in rb["members"]}
        self.broker = self.roster[broker_id]
        if w.ROLE["broker"] not in self.broker["roles"]:
            raise SystemExit("roster: %s is not a broker" % broker_id)
        self.ctx = zmq.Context()
        self.results = []         # (name, expected, observed, ok)
        self.refused = []         # (label, message_id) that must be stored nowhere
        self.accepted = []        # (label, sender, message_id) that must be stored once
        self.seq = 0
        self.last_ok = {}         # sender -> highest sequence that got a receipt
        self.roots = set()        # batch roots whose broker signature we verified

    # -- helpers ---------------------------------------------------------

    def record(self, name, expected, observed, ok, note=False):
        """ok False and note True: the behaviour differs from PROTOCOL.md in a
        way judged harmless (explained in the report); it does not fail."""
        self.results.append((name, expected, observed, ok or note))
        print("%-4s %-62s | expected: %-34s | observed: %s" %
              ("PASS" if ok else "NOTE" if note else "FAIL", name, expected, observed),
              flush=True)

    def connect(self, ident, hello=True, tries=10):
        """A welcomed connection. The broker allows one live connection per
        member, so after closing one we may have to retry until it has seen
        the disconnect."""
        for attempt in range(tries):
            c = Conn(self.ctx, self.endpoint, self.broker["transport_pk"], ident)
            hs = c.handshake()
            if hs != "HANDSHAKE_SUCCEEDED":
                c.close()
                raise RuntimeError("%s: handshake %s" % (ident.id, hs))
            c.welcome = None
            if not hello:
                return c
            c.send(w.pkt_hello(0, 0))
            p = c.next_packet(3, want=("welcome",))
            if p is not None:
                c.welcome = p[1]
                return c
            c.close()
            time.sleep(0.5)
        raise RuntimeError("%s: no Welcome after Hello (%d tries)" % (ident.id, tries))

    def next_seq(self):
        """The broker takes each sender's sequence strictly in order and uses
        one up for every message the sender validly signed, accepted or
        refused (PROTOCOL.md): ask its database where the attacker stands."""
        bdb = os.path.join(self.dir, "broker", "ledger.db")
        con = sqlite3.connect("file:%s?mode=ro" % bdb, uri=True, timeout=10)
        try:
            row = con.execute("select last from sequences where sender=?", (self.att.id,)).fetchone()
        except sqlite3.OperationalError:
            row = None
        finally:
            con.close()
        self.seq = (row[0] if row else 0) + 1
        return self.seq

    def text_msg(self, ident, text, kind=w.KIND_NOTE, seq=None, mid=None,
                 created_ms=None, network=None, signer=None, sender=None,
                 to_roles=(ROLE_COORD,), to_members=(), **hdr):
        """(message_id, envelope) for a text-payload message."""
        mid = mid or os.urandom(16)
        seq = seq if seq is not None else self.next_seq()
        payload = text.encode("utf-8") if isinstance(text, str) else text
        hdr_b = w.encode_header(mid, sender if sender is not None else ident.id, seq,
                                created_ms or now_ms(), kind, to_members=to_members,
                                to_roles=to_roles, **hdr)
        body = w.encode_body(hdr_b, payload)
        env = w.sign_envelope(signer or ident.signer, network or self.network, body)
        return mid, env

    def submit(self, conn, env, timeout=5):
        """Send one Submit and wait for its reply. Returns a short outcome
        string: 'RECEIPT', 'ERR_xxx', 'NO-REPLY', 'BAD-REPLY: ...'. The reply
        (verified envelope dict) is stored in conn.last."""
        conn.last = None
        conn.last_raw = None
        if not conn.send(w.pkt_submit(env)):
            return "SEND-FAILED (connection gone)"
        obs = self.reply(conn, env, timeout)
        if obs == "RECEIPT":
            h = w.decode_envelope(env)["header"]
            self.last_ok[h["sender"]] = max(self.last_ok.get(h["sender"], 0), h["sequence"])
        return obs

    def reply(self, conn, env, timeout):
        p = conn.next_packet(timeout, want=("receipt", "error"))
        if p is None:
            return "NO-REPLY"
        name, val, _ = p
        if name not in ("receipt", "error"):
            return "BAD-REPLY: %s" % name
        conn.last_raw = val
        try:
            if name == "receipt":  # batch-signed: path to the root, root signed
                r = w.check_broker_receipt(val, self.broker, self.network, self.roots)
                r["reply"] = {"message_id": r["message_id"]}
            else:
                r = w.check_broker_envelope(val, self.broker, self.network, w.KIND_ERROR)
        except (ValueError, w.DecodeError, UnicodeDecodeError) as e:
            return "BAD-REPLY: %s" % e
        conn.last = r
        try:
            sub = w.decode_envelope(env) if env is not None else None
        except (w.DecodeError, UnicodeDecodeError):
            sub = None
        if name == "receipt":
            rc = r
            if sub is None:
                return "RECEIPT"
            if rc["envelope_hash"] != w.hash256(env):
                return "BAD-REPLY: receipt envelope_hash does not match what was sent"
            if rc["message_id"] != sub["header"]["message_id"] or \
                    rc["sender"] != sub["header"]["sender"]:
                return "BAD-REPLY: receipt names another message"
            if not rc["batch"]["first_index"] <= rc["ledger_index"] < \
                    rc["batch"]["first_index"] + rc["batch"]["count"]:
                return "BAD-REPLY: receipt outside its batch"
            if rc["root_env"]["header"]["to_members"]:
                return "BAD-REPLY: batch root names members"
            return "RECEIPT"
        er = r["reply"]
        code = w.ERR_NAMES.get(er["code"], "ERR_%d" % er["code"])
        if "message_id" in er and sub is not None:
            if er["message_id"] != sub["header"]["message_id"]:
                return "BAD-REPLY: %s names another message id" % code
        return code

    def expect_cut(self, conn, timeout=5):
        """Wait for the broker to close the connection. Returns the observed
        outcome: 'DISCONNECTED' (+ any error reply seen before it) or 'OPEN'."""
        e = conn.wait_event({"DISCONNECTED", "CLOSED"}, timeout)
        replies = []
        while True:
            p = conn.next_packet(0.05, want=("receipt", "error", "welcome"))
            if p is None:
                break
            name, val, _ = p
            if name == "error":
                try:
                    r = w.check_broker_envelope(val, self.broker, self.network, w.KIND_ERROR)
                    replies.append(w.ERR_NAMES.get(r["reply"]["code"], str(r["reply"]["code"])))
                except (ValueError, w.DecodeError) as ex:
                    replies.append("BAD-REPLY(%s)" % ex)
            else:
                replies.append(name.upper())
        obs = "DISCONNECTED" if e else "OPEN after %ds" % timeout
        if replies:
            obs += " (replies: %s)" % ",".join(replies)
        return obs, bool(e), replies

    def pace(self):
        # error replies are rate-limited per member (10/s, burst 20); stay under
        time.sleep(0.15)

    # -- the attacks -----------------------------------------------------

    def run(self):
        a = self
        # (a) unknown CURVE key
        c = Conn(self.ctx, self.endpoint, self.broker["transport_pk"], w.Identity.random())
        hs = c.handshake(5)
        c.close()
        a.record("a  CURVE key not in the roster", "HANDSHAKE_FAILED_AUTH", hs,
                 hs == "HANDSHAKE_FAILED_AUTH")
        # control: the attacker's own rostered key is admitted
        m = self.connect(self.att)
        self.seq = m.welcome["last_sequence"]
        a.record("a' control: rostered key, Hello -> Welcome", "WELCOME",
                 "WELCOME last_sequence=%d" % self.seq, True)

        # (b) forged signature, then the genuine envelope with the same id
        mid, env = self.text_msg(self.att, "b: forged signature")
        d = w.ENVELOPE.decode(env)
        sig = bytearray(d["signature"])
        sig[5] ^= 0x40
        forged = w.encode_envelope(d["signer_key_id"], d["body"], bytes(sig))
        obs = self.submit(m, forged)
        a.record("b  forged signature (one bit flipped)", "ERR_BAD_SIGNATURE (broker-signed)",
                 obs + self.signed_note(m), obs == "ERR_BAD_SIGNATURE")
        obs = self.submit(m, env)
        a.record("b' control: genuine envelope with the same id", "RECEIPT", obs,
                 obs == "RECEIPT")
        self.accepted.append(("b'", self.att.id, mid))
        self.pace()

        # (c) signed by another member's key on the attacker's connection
        mid, env = self.text_msg(self.vic, "c: impersonation", seq=10**9 + self.next_seq())
        obs = self.submit(m, env)
        a.record("c  signed with %s's key on %s's connection" % (self.vic.id, self.att.id),
                 "ERR_SIGNER_MISMATCH", obs, obs == "ERR_SIGNER_MISMATCH")
        self.refused.append(("c", mid))
        self.pace()

        # (d) header.sender is not the signer
        mid, env = self.text_msg(self.att, "d: sender spoof", sender=self.vic.id)
        obs = self.submit(m, env)
        a.record("d  header.sender=%s, signed by %s" % (self.vic.id, self.att.id),
                 "ERR_SENDER_MISMATCH", obs, obs == "ERR_SENDER_MISMATCH")
        self.refused.append(("d", mid))
        self.pace()

        # (e) replay, then same id with different content
        mid, env = self.text_msg(self.att, "e: original")
        obs1 = self.submit(m, env)
        r1 = m.last_raw
        obs2 = self.submit(m, env)
        r2 = m.last_raw
        same = r1 is not None and r1 == r2
        a.record("e  resend of an accepted envelope (byte-identical)",
                 "RECEIPT twice, identical bytes",
                 "%s, %s, %s" % (obs1, obs2, "identical" if same else "DIFFERENT receipts"),
                 obs1 == "RECEIPT" and obs2 == "RECEIPT" and same)
        self.accepted.append(("e", self.att.id, mid))
        _, env2 = self.text_msg(self.att, "e: other content", mid=mid)
        obs = self.submit(m, env2)
        a.record("e' same message id, different content", "ERR_DUPLICATE_CONFLICT + id",
                 obs + self.id_note(m, mid), obs == "ERR_DUPLICATE_CONFLICT" and
                 self.reply_has_id(m, mid))
        self.pace()

        # (f) stale sequence: below the last accepted, new id
        last = self.last_ok[self.att.id]
        mid, env = self.text_msg(self.att, "f: stale sequence", seq=max(1, last - 1))
        obs = self.submit(m, env)
        a.record("f  new id, sequence %d below last accepted %d" % (max(1, last - 1), last),
                 "ERR_REPLAY + id", obs + self.id_note(m, mid),
                 obs == "ERR_REPLAY" and self.reply_has_id(m, mid))
        self.refused.append(("f", mid))
        # equal sequence is stale too
        mid, env = self.text_msg(self.att, "f: equal sequence", seq=last)
        obs = self.submit(m, env)
        a.record("f' new id, sequence equal to the last accepted", "ERR_REPLAY", obs,
                 obs == "ERR_REPLAY")
        self.refused.append(("f'", mid))
        self.pace()

        # (g) signed for another network
        mid, env = self.text_msg(self.att, "g: wrong network", network=self.network + "-x")
        obs = self.submit(m, env)
        a.record("g  signature over network '%s-x'" % self.network, "ERR_BAD_SIGNATURE", obs,
                 obs == "ERR_BAD_SIGNATURE")
        self.refused.append(("g", mid))
        self.pace()

        # (h) created one hour in the future
        mid, env = self.text_msg(self.att, "h: future", created_ms=now_ms() + 3600 * 1000)
        obs = self.submit(m, env)
        a.record("h  created_ms = now + 1 h", "ERR_FUTURE", obs, obs == "ERR_FUTURE")
        self.refused.append(("h", mid))
        self.pace()

        # (i) a responder sends an initial report (kind 1)
        r = self.connect(self.resp)
        rseq = r.welcome["last_sequence"] + 1
        rep = w.encode_initial_report("Sở Y tế", "Hệ thống bệnh án", "Báo cáo giả mạo")
        mid = os.urandom(16)
        body = w.encode_body(w.encode_header(mid, self.resp.id, rseq, now_ms(),
                                             w.KIND_INITIAL_REPORT, to_roles=[ROLE_COORD]), rep)
        env = w.sign_envelope(self.resp.signer, self.network, body)
        obs = self.submit(r, env)
        r.close()
        a.record("i  responder submits an initial report (kind 1)", "ERR_FORBIDDEN_KIND",
                 obs, obs == "ERR_FORBIDDEN_KIND")
        self.refused.append(("i", mid))
        # control: the same minimal Form 03 from an operator is accepted
        mid, env = self.text_msg(self.att, rep, kind=w.KIND_INITIAL_REPORT)
        obs = self.submit(m, env)
        a.record("i' control: operator submits the same minimal Form 03", "RECEIPT", obs,
                 obs == "RECEIPT")
        self.accepted.append(("i'", self.att.id, mid))
        self.pace()

        # (m) NUL and bidi override in header strings
        cases = [
            ("m1 NUL inside header.signed_by_person", dict(signed_by_person="Cán bộ\x00ẩn")),
            ("m2 NUL inside header.sender (after the real id)",
             dict(sender=self.att.id + "\x00x")),
            ("m3 NUL inside a header.to_members entry",
             dict(to_members=[self.vic.id + "\x00x"])),
            ("m4 U+202E inside header.signed_by_person",
             dict(signed_by_person="Cán bộ \u202eexe.fdp")),
            ("m5 U+202E inside header.local_account", dict(local_account="root\u202e")),
        ]
        for name, kw in cases:
            mid, env = self.text_msg(self.att, name, **kw)
            obs = self.submit(m, env)
            a.record(name, "ERR_MALFORMED", obs, obs == "ERR_MALFORMED")
            self.refused.append((name[:2], mid))
            self.pace()

        # (n) non-canonical envelope: an unknown field appended
        mid, env = self.text_msg(self.att, "n: extra field")
        obs = self.submit(m, env + w.f_bytes(15, b"extra"))
        a.record("n  envelope + unknown field 15 appended", "ERR_MALFORMED", obs,
                 obs == "ERR_MALFORMED")
        self.refused.append(("n", mid))
        self.pace()
        # variants: a second signature field (last wins); a non-minimal length varint
        mid, env = self.text_msg(self.att, "n: duplicate signature field")
        obs = self.submit(m, w.f_bytes(3, bytes(64)) + env)
        a.record("n2 envelope with a junk signature field before the real one",
                 "ERR_MALFORMED", obs, obs == "ERR_MALFORMED")
        self.refused.append(("n2", mid))
        self.pace()
        mid, env = self.text_msg(self.att, "n: padded varint")
        d = w.ENVELOPE.decode(env)
        L = len(d["body"])
        padded = bytes([(L & 0x7F) | 0x80, ((L >> 7) & 0x7F) | 0x80, (L >> 14) | 0x00])
        nc = (w.f_bytes(1, d["signer_key_id"]) + w.tag(2, 2) + padded + d["body"]
              + w.f_bytes(3, d["signature"]))
        obs = self.submit(m, nc)
        a.record("n3 envelope body length as a non-minimal varint", "ERR_MALFORMED", obs,
                 obs == "ERR_MALFORMED")
        self.refused.append(("n3", mid))
        self.pace()

        # same size as the canonical form: the three envelope fields reordered
        mid, env = self.text_msg(self.att, "n: fields reordered")
        d = w.ENVELOPE.decode(env)
        nc = (w.f_bytes(3, d["signature"]) + w.f_bytes(2, d["body"])
              + w.f_bytes(1, d["signer_key_id"]))
        obs = self.submit(m, nc)
        a.record("n4 envelope fields in order 3,2,1 (same size)", "ERR_MALFORMED", obs,
                 obs == "ERR_MALFORMED")
        self.refused.append(("n4", mid))
        self.pace()
        # inside the signed bytes: an unknown field appended to the Body
        mid = os.urandom(16)
        body = w.encode_body(w.encode_header(mid, self.att.id, self.next_seq(), now_ms(),
                                             w.KIND_NOTE, to_roles=[ROLE_COORD]),
                             b"n: unknown body field") + w.f_bytes(15, b"extra")
        obs = self.submit(m, w.sign_envelope(self.att.signer, self.network, body))
        a.record("n5 signed Body + unknown field 15 appended", "ERR_MALFORMED", obs,
                 obs == "ERR_MALFORMED")
        self.refused.append(("n5", mid))
        self.pace()

        # (o) a member submits a RECEIPT (kind 20)
        rc = w.encode_batch_root(os.urandom(32), 1, 1, 1)  # a forged batch root
        mid, env = self.text_msg(self.att, rc, kind=w.KIND_RECEIPT, to_roles=(ROLE_COORD,))
        obs = self.submit(m, env)
        a.record("o  operator submits kind RECEIPT (20)", "refused (ERR_FORBIDDEN_KIND)",
                 obs, obs.startswith("ERR_"))
        self.refused.append(("o", mid))
        self.pace()

        # (k') the envelope limit: one byte over IRN_MAX_ENVELOPE, in a frame
        # well under the frame limit -> ERR_OVERSIZE and the connection is kept
        n = w.MAX_ENVELOPE + 1 - 4
        big_env = w.f_bytes(2, bytes(n))
        assert len(big_env) == w.MAX_ENVELOPE + 1, len(big_env)
        obs = self.submit(m, big_env, timeout=8)
        a.record("k' envelope of %d bytes (limit %d)" % (len(big_env), w.MAX_ENVELOPE),
                 "ERR_OVERSIZE, connection kept", obs, obs == "ERR_OVERSIZE")
        self.pace()

        # the main connection must still be usable after all of this
        mid, env = self.text_msg(self.att, "still alive")
        obs = self.submit(m, env)
        a.record("   control: attacker's first connection still served", "RECEIPT", obs,
                 obs == "RECEIPT")
        self.accepted.append(("alive", self.att.id, mid))
        m.close()   # one live connection per member: the next ones are fresh

        # (j) garbage, (k) oversized, (l) two frames: each on a fresh connection
        for name, frames in [
            ("j  garbage frame (truncated length-delimited field)",
             [b"\x1a\x7f" + b"not an irnet packet"]),
            ("j2 garbage frame (invalid wire type 7)", [b"\x0f\x01\x02\x03garbage"]),
            ("k  frame of %d bytes (> inbound limit)" % (w.MAX_FRAME_IN + 1),
             [b"\x1a" + w.varint(w.MAX_FRAME_IN - 3) + b"\x00" * (w.MAX_FRAME_IN - 3)]),
            ("l  two frames in one message", "two"),
        ]:
            c = self.connect(self.att)
            if frames == "two":
                mid, env = self.text_msg(self.att, "l: two frames")
                frames = [w.pkt_submit(env), w.pkt_submit(env)]
                self.refused.append(("l", mid))
            c.send(frames)
            obs, cut, replies = self.expect_cut(c, 5)
            c.close()
            a.record(name, "connection closed", obs, cut and "RECEIPT" not in replies)
            self.pace()

        # (k'') a frame of exactly IRN_MAX_FRAME_IN bytes: §5.4 says only a
        # frame > 262 144 bytes is cut, so this one should be read (-> ERR_OVERSIZE).
        # Measured: the largest frame read is 262 111 bytes, because libzmq
        # applies ZMQ_MAXMSGSIZE to the CURVE MESSAGE command (33 bytes of
        # command name, nonce, MAC and flags more). NOTE, not FAIL: the
        # largest legal Packet (262 080-byte envelope + 4) is 262 084 bytes
        # and still fits; only frames that hold an oversized envelope anyway
        # are cut instead of answered with ERR_OVERSIZE.
        c = self.connect(self.att)
        n = w.MAX_FRAME_IN - 8
        while len(w.pkt_submit(w.f_bytes(2, bytes(n)))) < w.MAX_FRAME_IN:
            n += 1
        frame = w.pkt_submit(w.f_bytes(2, bytes(n)))
        assert len(frame) == w.MAX_FRAME_IN, len(frame)
        c.send(frame)
        obs, cut, replies = self.expect_cut(c, 3)
        c.close()
        a.record("k'' frame of exactly %d bytes (= the limit)" % w.MAX_FRAME_IN,
                 "read: ERR_OVERSIZE, kept", obs, not cut and replies == ["ERR_OVERSIZE"],
                 note=cut and not replies)
        self.pace()

        # (p) a second connection with the victim's key while its daemon runs
        c = Conn(self.ctx, self.endpoint, self.broker["transport_pk"], self.vic)
        hs = c.handshake(5)
        if hs == "HANDSHAKE_SUCCEEDED":
            c.send(w.pkt_hello(0, 0))
            obs, cut, replies = self.expect_cut(c, 5)
            if not cut and "WELCOME" in replies:
                obs += " - the stolen key got a session"
        else:
            obs, cut = "handshake " + hs, hs == "HANDSHAKE_FAILED_AUTH"
        c.close()
        a.record("p  second connection with %s's key (daemon running)" % self.vic.id,
                 "connection cut", obs, cut and "WELCOME" not in obs)

        # sentinel: a genuine message that the recipient must get; once it is
        # there, everything before it that the broker would have delivered is too
        m = self.connect(self.att)
        mid, env = self.text_msg(self.att, "sentinel")
        obs = self.submit(m, env)
        self.accepted.append(("sentinel", self.att.id, mid))
        m.close()
        a.record("   control: sentinel message accepted", "RECEIPT", obs, obs == "RECEIPT")
        self.check_ledgers(mid)

    def signed_note(self, conn):
        return " (broker signature verified)" if conn.last is not None else ""

    def reply_has_id(self, conn, mid):
        return conn.last is not None and conn.last["reply"].get("message_id") == mid

    def id_note(self, conn, mid):
        if conn.last is None:
            return ""
        return " + id" if conn.last["reply"].get("message_id") == mid else " (no/other id)"

    # -- ledgers -----------------------------------------------------------

    def count(self, db, mid, sender=None):
        """Rows holding message id mid: by the derived column and, separately,
        by scanning the exact stored envelope bytes (outside the hash chain the
        derived columns could lie)."""
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
        try:
            n_col = con.execute("select count(*) from ledger where type=2 and message_id=?"
                                + (" and sender=?" if sender else ""),
                                (mid, sender) if sender else (mid,)).fetchone()[0]
            n_data = 0
            for (data,) in con.execute("select data from ledger where type=2 and instr(data, ?) > 0",
                                       (mid,)):
                try:
                    if w.decode_envelope(data)["header"]["message_id"] == mid:
                        n_data += 1
                except (w.DecodeError, UnicodeDecodeError):
                    n_data += 1
            return n_col, n_data
        finally:
            con.close()

    def check_ledgers(self, sentinel):
        bdb = os.path.join(self.dir, "broker", "ledger.db")
        rdb = os.path.join(self.rcpt_home, "ledger.db")
        end = time.time() + 30
        while time.time() < end and self.count(rdb, sentinel)[0] == 0:
            time.sleep(0.2)
        got = self.count(rdb, sentinel)
        self.record("   sentinel delivered to %s" % self.args.recipient, "stored once",
                    "%d row(s)" % got[0], got == (1, 1))
        bad = []
        for label, mid in self.refused:
            for where, db in (("broker", bdb), (self.args.recipient, rdb)):
                n = self.count(db, mid)
                if n != (0, 0):
                    bad.append("%s in %s %s" % (label, where, n))
        self.record("   refused messages stored nowhere (%d ids, 2 ledgers)" % len(self.refused),
                    "0 rows each", "; ".join(bad) if bad else "0 rows each", not bad)
        bad = []
        for label, sender, mid in self.accepted:
            for where, db in (("broker", bdb), (self.args.recipient, rdb)):
                n = self.count(db, mid, sender)
                if n != (1, 1):
                    bad.append("%s in %s %s" % (label, where, n))
        self.record("   accepted messages stored once (%d ids, 2 ledgers)" % len(self.accepted),
                    "1 row each", "; ".join(bad) if bad else "1 row each", not bad)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--attacker", default="mallory")
    ap.add_argument("--victim", default="op")
    ap.add_argument("--responder", default="resp")
    ap.add_argument("--recipient", default="coord")
    args = ap.parse_args()
    run = Run(args)
    try:
        run.run()
    finally:
        run.ctx.destroy(linger=0)
    fails = [r for r in run.results if not r[3]]
    print("%d attacks/checks, %d failed" % (len(run.results), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
