#!/usr/bin/python3
"""Fill translations into a .po file: po-fill.py PO JSON
JSON maps msgid -> msgstr. Matching entries get the msgstr and lose the
fuzzy flag and their '#|' previous-msgid lines. Prints what it could not find."""
import json, re, sys

def unq(lines):
    out = []
    for l in lines:
        l = l.strip()
        m = re.match(r'^(?:msgid|msgstr)?\s*"(.*)"$', l)
        if m:
            out.append(json.loads('"' + m.group(1) + '"'))
    return ''.join(out)

def q(s):
    parts = s.split('\n')
    chunks = [p + '\n' for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    if len(chunks) <= 1 and len(s) < 70:
        return '"' + json.dumps(s, ensure_ascii=False)[1:-1] + '"'
    return '""\n' + '\n'.join('"' + json.dumps(c, ensure_ascii=False)[1:-1] + '"' for c in chunks)

po, tr = sys.argv[1], json.load(open(sys.argv[2]))
blocks = open(po).read().split('\n\n')
done = set()
for i, b in enumerate(blocks):
    lines = b.split('\n')
    try:
        a = next(k for k, l in enumerate(lines) if l.startswith('msgid '))
        z = next(k for k, l in enumerate(lines) if l.startswith('msgstr '))
    except StopIteration:
        continue
    mid = unq(lines[a:z])
    if mid not in tr:
        continue
    head = [l for l in lines[:a] if not l.startswith('#|')]
    head = [re.sub(r'^#, (.*)', lambda m: '#, ' + ', '.join(x for x in m.group(1).split(', ') if x != 'fuzzy'), l) for l in head]
    head = [l for l in head if l != '#, ']
    blocks[i] = '\n'.join(head + lines[a:z] + ['msgstr ' + q(tr[mid])])
    done.add(mid)
open(po, 'w').write('\n\n'.join(blocks))
for m in tr:
    if m not in done:
        print('not found:', m[:70], file=sys.stderr)
