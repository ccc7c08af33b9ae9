#!/usr/bin/env python3
"""Regenerate the seed corpus: every message of tests/data/sip in wire form.

tests/data/sip holds messages in the RFC 4475 §2 notation (see its README);
libFuzzer wants raw bytes. Run from anywhere; writes tests/fuzz/corpus/sip/.
Other files are left alone: "found-*" are inputs the fuzzer found (a
libFuzzer -merge=1 minimised set, the ones under 512 bytes), kept so that the
fuzz-regress suite replays them in every run.
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "sip")
OUT = os.path.join(HERE, "corpus", "sip")


def decode(text):
    text = re.sub(r"<repeat count=(\d+)>(.*?)</repeat>",
                  lambda m: m.group(2) * int(m.group(1)), text)
    out, pos = bytearray(), 0
    for m in re.finditer(r"<hex>([0-9A-Fa-f]*)</hex>", text):
        out += text[pos:m.start()].replace("\n", "\r\n").encode()
        out += bytes.fromhex(m.group(1))
        pos = m.end()
    out += text[pos:].replace("\n", "\r\n").encode()
    return bytes(out)


for sub in sorted(os.listdir(DATA)):
    d = os.path.join(DATA, sub)
    if not os.path.isdir(d):
        continue
    for f in sorted(os.listdir(d)):
        if f.endswith(".txt"):
            with open(os.path.join(d, f)) as src:
                data = decode(src.read())
            with open(os.path.join(OUT, sub + "-" + f[:-4] + ".sip"), "wb") as dst:
                dst.write(data)
