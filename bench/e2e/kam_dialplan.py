#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a Kamailio db_text database for the dialplan module from a workload
rules.tsv (../shared/workload/rN or rules/tools/gen_workload.py output):
<dbdir>/version and <dbdir>/dialplan, all rules under dpid 1.

db_text separates columns with ':' and escapes ':' and '\\' with a backslash.

usage: kam_dialplan.py rules.tsv dbdir
"""
import os
import sys


def esc(s):
    return s.replace('\\', '\\\\').replace(':', '\\:').replace('\n', '\\n')


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'version'), 'w') as f:
        f.write('table_name(string) table_version(int)\n')
        f.write('dialplan:2\n')
    n = 0
    with open(src) as fin, open(os.path.join(out, 'dialplan'), 'w') as f:
        f.write('id(int,auto) dpid(int) pr(int) match_op(int) match_exp(string) '
                'match_len(int) subst_exp(string) repl_exp(string) attrs(string)\n')
        for line in fin:
            line = line.rstrip('\n')
            if not line or line.startswith('pr\t'):
                continue
            pr, op, mexp, mlen, sexp, repl, attrs = line.split('\t')
            n += 1
            f.write(':'.join([str(n), '1', pr, op, esc(mexp), mlen, esc(sexp), esc(repl),
                              esc(attrs)]) + '\n')
    print(n)


if __name__ == '__main__':
    main()
