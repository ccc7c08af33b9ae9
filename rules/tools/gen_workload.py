#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate a dial-plan workload of the shape of ../shared/workload at any
size (the shared one stops at 10,000 rules; we need 100,000).

Writes <dir>/rules.tsv (same columns as the shared workload) and
<dir>/numbers.csv (SIPp injection file). Families, in the proportions of
r10000/stats.json: the six hand rules of reference/004 and the workload
(mobile JP/UK/NYC/DE, 9# phonebook, 2# prefix dialing) first, then mobile
^\\+?<cc>(<op>|<op>|<op>)[0-9]{n}$ (40 %), geographic ^0<area>[0-9]{n,m}$
(20 %), international ^00<cc><ndc>[0-9]{a,b}$ (20 %), short codes
^<k>#([0-9]{2})$ (10 %), prefix dialing ^<k>#([0-9]+)$ (10 %), and the four
generic rules (national, international, E.164, catch-all) last. Numbers are
drawn from a uniformly chosen rule (so a linear first-match scan looks at
half the plan on average) plus a few generic ones. The expected routing is
not written: tools/wl_check --naive computes it with a linear PCRE2 scan.

usage: gen_workload.py <rules> <numbers> <outdir> [seed] [--prefix P]
(--prefix names the files <outdir>/<P>rules.tsv and <outdir>/<P>numbers.csv)
"""
import os
import random
import sys

HAND = [
    ('^\\+?81(90|80|70)[0-9]{8}$', '^\\+?(81(?:90|80|70)[0-9]{8})$', 'sip:+\\1@trunk1', 'mobile-jp'),
    ('^\\+?44(7[1-9])[0-9]{8}$', '^\\+?(447[1-9][0-9]{8})$', 'sip:+\\1@trunk2', 'mobile-uk'),
    ('^\\+?1(212|646|917)[0-9]{7}$', '^\\+?(1(?:212|646|917)[0-9]{7})$', 'sip:+\\1@trunk3', 'nanp-nyc'),
    ('^\\+?49(15|16|17)[0-9]{8,9}$', '^\\+?(49(?:15|16|17)[0-9]{8,9})$', 'sip:+\\1@trunk4', 'mobile-de'),
    ('^9#([0-9]{2})$', '^9#([0-9]{2})$', 'sip:pb\\1@phonebook', 'shortcode'),
    ('^2#([0-9]+)$', '^2#([0-9]+)$', 'sip:\\1@trunk2', 'prefix-dial'),
]
GENERIC = [
    ('^0[1-9][0-9]{8,9}$', '^0([1-9][0-9]{8,9})$', 'sip:+81\\1@national', 'national'),
    ('^00([1-9][0-9]{6,14})$', '^00([1-9][0-9]{6,14})$', 'sip:+\\1@intl', 'intl'),
    ('^\\+([1-9][0-9]{6,14})$', '^\\+([1-9][0-9]{6,14})$', 'sip:+\\1@e164', 'e164'),
    ('^(.*)$', '^(.*)$', 'sip:\\1@catchall', 'catchall'),
]


def digits(rng, n):
    return ''.join(rng.choice('0123456789') for _ in range(n))


def make_rule(rng, fam, used):
    while True:
        t = rng.randint(1, 60)
        if fam == 'mobile':
            cc = str(rng.randint(20, 999))
            ops = rng.sample(range(10, 100), 3)
            n = rng.randint(6, 8)
            key = ('m', cc, tuple(ops))
            m = '^\\+?%s(%d|%d|%d)[0-9]{%d}$' % (cc, ops[0], ops[1], ops[2], n)
            s = '^\\+?(%s(?:%d|%d|%d)[0-9]{%d})$' % (cc, ops[0], ops[1], ops[2], n)
            r = ('sip:+\\1@trunk%d' % t, 'mob-%s-t%d' % (cc, t))
            num = lambda: rng.choice(['+', '']) + cc + str(rng.choice(ops)) + digits(rng, n)
        elif fam == 'geo':
            area = str(rng.randint(100, 99999))
            a = rng.randint(5, 7)
            key = ('g', area)
            m = '^0%s[0-9]{%d,%d}$' % (area, a, a + 1)
            s = '^0(%s[0-9]{%d,%d})$' % (area, a, a + 1)
            r = ('sip:+81\\1@trunk%d' % t, 'geo-%s-t%d' % (area, t))
            num = lambda: '0' + area + digits(rng, rng.randint(a, a + 1))
        elif fam == 'intl':
            cc = str(rng.randint(20, 999))
            ndc = str(rng.randint(1, 999))
            a = rng.randint(6, 8)
            key = ('i', cc, ndc)
            m = '^00%s%s[0-9]{%d,%d}$' % (cc, ndc, a, a + 1)
            s = '^00(%s%s[0-9]{%d,%d})$' % (cc, ndc, a, a + 1)
            r = ('sip:+\\1@intl%d' % t, 'intl-%s-%s-t%d' % (cc, ndc, t))
            num = lambda: '00' + cc + ndc + digits(rng, rng.randint(a, a + 1))
        elif fam == 'short':
            k = str(rng.randint(10, 99999))
            key = ('s', k)
            m = s = '^%s#([0-9]{2})$' % k
            r = ('sip:pb\\1@phonebook%d' % t, 'short-%s' % k)
            num = lambda: k + '#' + digits(rng, 2)
        else:
            k = str(rng.randint(10, 99999))
            key = ('p', k)
            m = s = '^%s#([0-9]+)$' % k
            r = ('sip:\\1@trunk%d' % t, 'pfx-%s-t%d' % (k, t))
            num = lambda: k + '#' + digits(rng, rng.randint(1, 8))
        if key in used:
            continue
        used.add(key)
        return (m, s, r[0], r[1]), num


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    args = sys.argv[1:]
    prefix = ''
    if '--prefix' in args:
        i = args.index('--prefix')
        prefix = args[i + 1]
        del args[i:i + 2]
    nrules, nnum, outdir = int(args[0]), int(args[1]), args[2]
    rng = random.Random(int(args[3]) if len(args) > 3 else 20240601)
    os.makedirs(outdir, exist_ok=True)
    rules, gens, used = list(HAND[:min(6, nrules)]), [], set()
    gens = [None] * len(rules)
    nmid = max(0, nrules - len(rules) - len(GENERIC))
    fams = ['mobile'] * 40 + ['geo'] * 20 + ['intl'] * 20 + ['short'] * 10 + ['prefix'] * 10
    for _ in range(nmid):
        rule, num = make_rule(rng, rng.choice(fams), used)
        rules.append(rule)
        gens.append(num)
    for g in GENERIC[max(0, len(GENERIC) - (nrules - len(rules))):]:
        rules.append(g)
        gens.append(None)
    with open(os.path.join(outdir, prefix + 'rules.tsv'), 'w') as f:
        f.write('pr\tmatch_op\tmatch_exp\tmatch_len\tsubst_exp\trepl_exp\tattrs\n')
        for i, (m, s, r, a) in enumerate(rules):
            f.write('%d\t1\t%s\t0\t%s\t%s\t%s\n' % (i + 1, m, s, r, a))
    hand_nums = [lambda: '+8190' + digits(rng, 8), lambda: '447' + str(rng.randint(1, 9)) + digits(rng, 8),
                 lambda: '1646' + digits(rng, 7), lambda: '+4916' + digits(rng, 8),
                 lambda: '9#' + digits(rng, 2), lambda: '2#' + digits(rng, rng.randint(1, 6)),
                 lambda: '0' + str(rng.randint(1, 9)) + digits(rng, 8),
                 lambda: '00' + str(rng.randint(1, 9)) + digits(rng, 9),
                 lambda: '+' + str(rng.randint(1, 9)) + digits(rng, 9), lambda: 'user' + digits(rng, 3)]
    with open(os.path.join(outdir, prefix + 'numbers.csv'), 'w') as f:
        f.write('SEQUENTIAL\n')
        for _ in range(nnum):
            i = rng.randrange(len(rules))
            if gens[i] is None or rng.random() < 0.05:
                f.write(rng.choice(hand_nums)() + ';\n')
            else:
                f.write(gens[i]() + ';\n')


if __name__ == '__main__':
    main()
