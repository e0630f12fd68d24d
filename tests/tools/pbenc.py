#!/usr/bin/python3
"""Encode irnet payloads by hand (proto/irnet.proto), written from the
schema without the project's code, for the integration tests: prints the
payload in hex for `irnet-node message --kind KIND --payload-hex`.

  pbenc.py end-report INCIDENT_HEX REPORTER INITIAL_MS OUTCOME HANDLING
           ENDED_MS [--damage-vnd N] [--national]
  pbenc.py chunk HASH_HEX NAME SIZE INDEX COUNT DATA_LEN [--ref INCIDENT_HEX REPORTER]
With --out FILE first, the payload is written to FILE in binary instead
(for `--payload-file`: a 128 KiB chunk is too long for one argument).
"""
import os
import sys


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire):
    return varint(field << 3 | wire)


def f_varint(field, n):
    return key(field, 0) + varint(n)


def f_bytes(field, b):
    if isinstance(b, str):
        b = b.encode()
    return key(field, 2) + varint(len(b)) + b


def incident_ref(incident_hex, reporter):
    return f_bytes(1, bytes.fromhex(incident_hex)) + f_bytes(2, reporter)


def main(a):
    out = None
    if a and a[0] == "--out":
        out, a = a[1], a[2:]
    if a[0] == "end-report":
        inc, reporter, initial_ms, outcome, handling, ended_ms = a[1:7]
        rest = a[7:]
        damage = None
        national = None
        while rest:
            if rest[0] == "--damage-vnd":
                damage = int(rest[1]); rest = rest[2:]
            elif rest[0] == "--national":
                national = True; rest = rest[1:]
            else:
                raise SystemExit("unknown option " + rest[0])
        p = f_bytes(1, incident_ref(inc, reporter)) + f_varint(2, int(initial_ms))
        p += f_bytes(3, outcome)
        if damage is not None:
            p += f_varint(6, damage)
        p += f_varint(8, int(handling))
        if national is not None:
            p += f_varint(9, 1)
        p += f_varint(10, int(ended_ms))
    elif a[0] == "chunk":
        h, name, size, index, count, dlen = a[1:7]
        p = f_bytes(1, bytes.fromhex(h)) + f_bytes(2, name) + f_varint(3, int(size))
        p += f_varint(4, int(index)) + f_varint(5, int(count)) + f_bytes(6, os.urandom(int(dlen)))
        if len(a) > 7 and a[7] == "--ref":
            p += f_bytes(7, incident_ref(a[8], a[9]))
    else:
        raise SystemExit(__doc__)
    if out:
        open(out, "wb").write(p)
    else:
        print(p.hex())


if __name__ == "__main__":
    main(sys.argv[1:])
