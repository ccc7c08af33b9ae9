#!/usr/bin/env python3
"""Instructions per message of the worker, by component, from callgrind.

    valgrind --tool=callgrind --callgrind-out-file=cg.out --toggle-collect=k_worker_burst \
        build/bench/sipwarp_bench --benchmark_filter='BM_worker/2$' --benchmark_min_time=0.05
    bench/cg_breakdown.py cg.out comp          # components (parse, match, checksum ...)
    bench/cg_breakdown.py cg.out self 40       # top functions, self Ir per message
    bench/cg_breakdown.py cg.out incl 40       # inclusive
    bench/cg_breakdown.py cg.out callees 0 sw_dp_sip forward_request

Files of inlined code are merged into their function (callgrind_annotate
splits them); a message is one call of sw_dp_sip.
"""
import re, sys, collections
path = sys.argv[1]
names = {}
def name_of(tok):
    m = re.match(r'\((\d+)\)(?:\s+(.*))?', tok)
    if not m: return tok
    i, n = m.group(1), m.group(2)
    if n is not None: names[i] = n
    return names[i]
self_ = collections.Counter(); incl_calls = collections.Counter(); ncalls = collections.Counter()
fn = None; pending_call = None
for line in open(path):
    line = line.rstrip('\n')
    if not line: continue
    c = line[0]
    if line.startswith('fn='):
        fn = name_of(line[3:]); continue
    if line.startswith('cfn='):
        cfn = name_of(line[4:]); continue
    if line.startswith('calls='):
        pending_call = (cfn, int(line[6:].split()[0])); continue
    if c.isdigit() or c in '+-*':
        parts = line.split()
        if len(parts) < 2: continue
        v = int(parts[1])
        if pending_call:
            if pending_call[0] != fn:
                incl_calls[(fn, pending_call[0])] += v
            ncalls[pending_call[0]] += pending_call[1]
            pending_call = None
        else:
            self_[fn] += v
        continue
incl = collections.Counter(self_)
for (a, b), v in incl_calls.items(): incl[a] += v
total = sum(self_.values())
nmsg = ncalls.get('sw_dp_sip') or 1
print(f"total Ir {total}  messages {nmsg}  Ir/msg {total/nmsg:.0f}")
mode = sys.argv[2] if len(sys.argv) > 2 else 'self'
d = self_ if mode == 'self' else incl
for f, v in d.most_common(int(sys.argv[3]) if len(sys.argv) > 3 else 45):
    print(f"{v/nmsg:9.0f}  {100*v/total:5.1f}%  {f}")
if mode == 'comp':
    g = lambda f: incl.get(f, 0) / nmsg
    parse = g('sw_sip_parse'); match = g('sw_ruleset_match'); enc = g('sw_dp_encap_udp')
    apply_ = g('sw_rw_apply_room'); send = g('sw_dp_send'); sip = g('sw_dp_sip')
    poll = g('sw_dp_worker_poll'); burst = g('k_worker_burst'); fl = g('sw_dp_worker_flush')
    feed = g('feed') + g('drain')
    # the burst a stage at a time: parse (and the rules' walks) before sw_dp_sip
    walks = g('sw_ruleset_prefetch') + g('sw_ruleset_match_prepare')
    rows = [('parse (sw_sip_parse)', parse), ('rules: the burst\'s trie walks', walks),
            ('rules match (sw_ruleset_match)', match),
            ('encap + IP/UDP checksum (sw_dp_encap_udp)', enc), ('rewrite apply (sw_rw_apply_room)', apply_),
            ('send: neighbour + TX buffer (sw_dp_send)', send),
            ('proxy logic (rest of sw_dp_sip)', sip - match - enc - apply_ - send),
            ('rx + classify (rest of the poll)', poll - sip - parse - walks),
            ('tx flush (sw_dp_worker_flush)', fl),
            ('bench feed/drain', burst - poll - fl)]
    for n, v in rows: print(f"  {v:7.0f}  {n}")
    print(f"  {burst:7.0f}  total per message; non-parser worker {poll + fl - parse:.0f}")
if mode == 'callees':
    for fnm in sys.argv[4:]:
        print(f"== {fnm}: incl {incl[fnm]/nmsg:.0f} self {self_[fnm]/nmsg:.0f}")
        for (a, b), v in sorted(incl_calls.items(), key=lambda kv: -kv[1]):
            if a == fnm: print(f"   {v/nmsg:7.0f}  {b}")
