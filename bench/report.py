#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Turn one bench/run.sh results directory into report.md and chart.png.

usage: report.py RESULTS_DIR [--readme-table]

Reads env.txt, micro.json (Google Benchmark), ring-rN-{tput,lat}.json
(sipwarp-bench-ring) and e2e-{sipwarp,kamailio}-rN.json (bench/e2e/e2e.sh).
Anything missing is left out of the report, not invented.
"""
import glob
import math
import json
import os
import re
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def env(d):
    e = {}
    try:
        for line in open(os.path.join(d, 'env.txt')):
            k, _, v = line.rstrip('\n').partition('=')
            e[k] = v
    except OSError:
        pass
    return e


def sizes(d):
    s = set()
    for f in glob.glob(os.path.join(d, '*-r*.json')):
        m = re.search(r'-r(\d+)(-|\.json)', os.path.basename(f))
        if m:
            s.add(int(m.group(1)))
    return sorted(s)


def fmt_int(v):
    return '–' if v is None else '{:,}'.format(int(round(v)))


def fmt(v, nd=2):
    if v is None:
        return '–'
    if v >= 100:
        return '{:,.0f}'.format(v)
    if v >= 10:
        return '{:.1f}'.format(v)
    return '{:.{}f}'.format(v, nd)


def at_rate(e2e, rate):
    """µs per SIP message in the passing step at exactly this rate, if any."""
    for st in (e2e or {}).get('steps', []):
        if st.get('rate') == rate and st.get('pass'):
            return st.get('us_per_msg')
    return None


def cps(best, first_fail):
    """The highest sustained rate; "≥" when no step failed (the cap was reached)."""
    if best is None:
        return '–'
    return ('≥ ' if not first_fail and best else '') + fmt_int(best)


def rules_label(n):
    return {10: '10', 1000: '1k', 10000: '10k', 100000: '100k'}.get(n, str(n))


def chart(d, rows, ring):
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(9, 5.6), dpi=110)
    series = [
        ('Kamailio 5.6: CPU per SIP message\n(dialplan + stateless forward, all processes, /proc)',
         [(n, r['kam_us']) for n, r in rows if r.get('kam_us')], 'o-', '#c0392b', (6, 6)),
        ('sipwarp: busy cycles per SIP message\n(SIPp through TAP, 1 lcore)',
         [(n, r['sw_us']) for n, r in rows if r.get('sw_us')], 's-', '#2471a3', (6, 6)),
        ('sipwarp: worker thread CPU time per message\n(net_ring, rings full, no kernel I/O)',
         [(n, ring[n].get('cpu_us_per_msg')) for n in sorted(ring) if ring[n]], '^--', '#5dade2',
         (6, -13)),
    ]
    for name, pts, style, color, off in series:
        if not pts:
            continue
        xs, ys = zip(*pts)
        ax.plot(xs, ys, style, color=color, label=name, linewidth=2, markersize=7)
        for x, y in pts:
            # Of the points that share this x, the lowest is labelled below it.
            ys_here = [q for _, p2, _, _, _ in series for x2, q in p2 if x2 == x and q]
            off = (6, -13) if len(ys_here) > 1 and y == min(ys_here) else (6, 6)
            ax.annotate(fmt(y) + ' µs', (x, y), textcoords='offset points', xytext=off,
                        fontsize=8, color=color)
    ax.set_xscale('log')
    ax.set_yscale('log')
    ns = sorted({n for n, _ in rows} | set(ring))
    ax.set_xlim(min(ns) / 2.5, max(ns) * 3)
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ns))
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.xaxis.set_major_formatter(matplotlib.ticker.FixedFormatter([rules_label(n) for n in ns]))
    ys = [y for _, pts, _, _, _ in series for _, y in pts if y]
    if ys:
        lo = 10 ** math.floor(math.log10(min(ys)) - 0.3)
        hi = 10 ** math.ceil(math.log10(max(ys)) + 0.3)
        ax.set_ylim(lo, hi)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: '%g' % v))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel('rules in the dial plan (log scale)')
    ax.set_ylabel('cost per SIP message, µs (log scale)')
    e = env(d)
    ax.set_title('sipwarp vs Kamailio: cost per SIP message against dial-plan size\n'
                 '%s, %s vCPUs, %s' %
                 (e.get('cpu_model', '?'), e.get('cpus', '?'), e.get('start_utc', '')[:10]),
                 fontsize=10)
    ax.grid(True, which='major', alpha=0.4)
    ax.grid(True, which='minor', axis='y', alpha=0.08)
    ax.legend(fontsize=8, loc='upper left', framealpha=0.9)
    fig.tight_layout()
    out = os.path.join(d, 'chart.png')
    fig.savefig(out)
    return out


def readme_table(d):
    """The short table for README.md's Benchmarks section."""
    print('| rules | Kamailio: CPU per SIP message | Kamailio: max calls/s | sipwarp: CPU per '
          'SIP message | sipwarp: max calls/s | ratio | sipwarp on net_ring: msg/s per core |')
    print('|---:|---:|---:|---:|---:|---:|---:|')
    for n in sizes(d):
        k = load(os.path.join(d, 'e2e-kamailio-r%d.json' % n)) or {}
        s = load(os.path.join(d, 'e2e-sipwarp-r%d.json' % n)) or {}
        t = load(os.path.join(d, 'ring-r%d-tput.json' % n)) or {}
        ku, su = k.get('us_per_msg'), s.get('us_per_msg')
        ratio = ku / su if ku and su else None
        cap = (1e6 / t['cpu_us_per_msg']) if t.get('cpu_us_per_msg') else None
        print('| %s | %s µs | %s | %s µs | %s | %s | %s |' % (
            rules_label(n), fmt(ku), cps(k.get('max_sustained_cps'), k.get('first_failing_cps')),
            fmt(su), cps(s.get('max_sustained_cps'), s.get('first_failing_cps')),
            ('%.0f×' % ratio if ratio >= 10 else '%.1f×' % ratio) if ratio else '–',
            fmt_int(cap)))


def main():
    if len(sys.argv) == 3 and sys.argv[2] == '--readme-table':
        readme_table(sys.argv[1])
        return
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    e = env(d)
    ns = sizes(d)
    rows = []
    ring = {}
    for n in ns:
        k = load(os.path.join(d, 'e2e-kamailio-r%d.json' % n)) or {}
        s = load(os.path.join(d, 'e2e-sipwarp-r%d.json' % n)) or {}
        r = {
            'kam_us': k.get('us_per_msg'), 'kam_cps': k.get('max_sustained_cps'),
            'kam_at': k.get('us_per_msg_at_cps'), 'kam_fail': k.get('first_failing_cps'),
            'kam_load': k.get('load_s'), 'kam_check': (k.get('check') or {}),
            'kam_1k': at_rate(k, 1000), 'sw_1k': at_rate(s, 1000),
            'sw_us': s.get('us_per_msg'), 'sw_cyc': s.get('cycles_per_msg'),
            'sw_cps': s.get('max_sustained_cps'), 'sw_at': s.get('us_per_msg_at_cps'),
            'sw_fail': s.get('first_failing_cps'), 'sw_load': s.get('load_s'),
            'sw_check': (s.get('check') or {}),
        }
        rows.append((n, r))
        ring[n] = load(os.path.join(d, 'ring-r%d-tput.json' % n))
    lat = {n: load(os.path.join(d, 'ring-r%d-lat.json' % n)) for n in ns}
    png = chart(d, rows, ring)

    L = []
    L.append('# sipwarp benchmark report')
    L.append('')
    L.append('- Run: %s → %s (%s mode, %s s), git %s' %
             (e.get('start_utc', '?'), e.get('end_utc', '?'), e.get('mode', '?'),
              e.get('elapsed_s', '?'), e.get('git', '?')))
    L.append('- Machine: %s, %s vCPUs, %s, kernel %s; TSC %.3f GHz' %
             (e.get('cpu_model', '?'), e.get('cpus', '?'), e.get('os', '?'), e.get('kernel', '?'),
              float(e.get('tsc_hz') or 0) / 1e9))
    L.append('- Software: DPDK %s, Kamailio %s, %s' %
             (e.get('dpdk', '?'), e.get('kamailio', '?'), e.get('sipp', '?')))
    la = e.get('load_start', '?')
    L.append('- Load average at start: %s; at end: %s' % (la, e.get('load_end', '?')))
    try:
        if float(la.split()[0]) > 1.5:
            L.append('')
            L.append('> **The machine was not quiet** (1-minute load %s > 1.5 at the start): '
                     'other processes shared the 2 vCPUs, so costs are inflated and rates '
                     'are low. Compare runs only when both were quiet.' % la.split()[0])
    except (ValueError, IndexError):
        pass
    L.append('')

    L.append('## sipwarp and Kamailio side by side (SIPp calls, same dial plans)')
    L.append('')
    L.append('Each call is INVITE, 180, 200, ACK, BYE, 200: 6 SIP messages through the proxy. '
             'The µs per SIP message columns are taken at the highest rate step that passed '
             '(each engine at its own best load; Kamailio costs more per message at low rates, '
             'where each message pays for a wake-up), the last column at 1,000 calls/s for '
             'both. CPU ratio = Kamailio µs / sipwarp µs at their highest passing steps.')
    L.append('')
    L.append('| rules | Kamailio µs / SIP msg | Kamailio max calls/s | sipwarp µs / SIP msg '
             '| sipwarp cycles / msg | sipwarp max calls/s | CPU ratio | at 1,000 calls/s: '
             'Kamailio / sipwarp µs |')
    L.append('|---:|---:|---:|---:|---:|---:|---:|---:|')
    for n, r in rows:
        ratio = (r['kam_us'] / r['sw_us']) if r['kam_us'] and r['sw_us'] else None
        L.append('| %s | %s | %s | %s | %s | %s | %s | %s |' % (
            fmt_int(n), fmt(r['kam_us']), cps(r['kam_cps'], r['kam_fail']), fmt(r['sw_us']),
            fmt_int(r['sw_cyc']), cps(r['sw_cps'], r['sw_fail']),
            ('%.0f×' % ratio if ratio >= 10 else '%.1f×' % ratio) if ratio else '–',
            '%s / %s' % (fmt(r['kam_1k']), fmt(r['sw_1k']))))
    L.append('')
    L.append('Checks before measuring (calls completed; Request-URI at the callee as in the '
             "workload's expected.tsv), dial-plan load time, first failing rate:")
    L.append('')
    L.append('| rules | engine | check calls | R-URI as expected | example R-URI at the callee '
             '| up in | first failing calls/s |')
    L.append('|---:|---|---:|---|---|---:|---:|')
    for n, r in rows:
        for eng, c, ld, f in (('Kamailio', r['kam_check'], r['kam_load'], r['kam_fail']),
                              ('sipwarp', r['sw_check'], r['sw_load'], r['sw_fail'])):
            if not c:
                continue
            L.append('| %s | %s | %s/%s | %s | `%s` | %s s | %s |' % (
                fmt_int(n), eng, c.get('completed'), c.get('calls'), c.get('ruri_as_expected'),
                c.get('first_ruri', ''), fmt(ld), fmt_int(f) if f else 'none up to the cap'))
    L.append('')

    if any(ring.values()):
        L.append('## sipwarp worker on net_ring (no kernel, no SIPp)')
        L.append('')
        L.append('One generator lcore feeds pre-built INVITEs (the workload numbers) to one '
                 'worker lcore over rte_ring ports; the worker runs the real loop (parse, '
                 'route, rewrite, TX). Throughput with the rings kept full; latency with one '
                 'message in flight (generator TSC in the Call-ID, read back at the sink). '
                 'The worker sends as soon as its RX queues run dry, so a lone message does '
                 'not wait; under load the 100 µs TX drain deadline (SW_TX_DRAIN_US) bounds '
                 'a partial burst. "cycles / msg (busy)" '
                 'counts TSC over bursts with packets, so it grows when the kernel preempts the '
                 'lcore mid-burst on a busy machine; \"worker CPU / msg\" is the thread\'s CPU '
                 'time over packets (rings full: it never idles) and does not. With several '
                 'throughput runs per size the row is the fastest (other tenants of a shared '
                 'machine only ever add time) and the last column lists every run.')
        L.append('')
        L.append('| rules | msg/s (1 generator core) | cycles / msg (busy) | µs / msg | capacity / '
                 'worker core | worker CPU / msg | worker got | latency p50 / p90 / p99 / p99.9 µs '
                 '| throughput runs: msg/s |')
        L.append('|---:|---:|---:|---:|---:|---:|---:|---|---|')
        for n in ns:
            t, l = ring.get(n), lat.get(n)
            if not t:
                continue
            lt = l['latency_us'] if l else None
            runs = t.get('runs') or [t]
            L.append('| %s | %s | %s | %s | %s msg/s | %s µs | %.0f %% | %s | %s |' % (
                fmt_int(n), fmt_int(t['msgs_per_sec']), fmt_int(t['cycles_per_msg']),
                fmt(t['busy_us_per_msg']), fmt_int(t['capacity_msgs_per_sec_per_core']),
                fmt(t.get('cpu_us_per_msg')), 100 * t.get('worker_cpu_share', 0),
                ' / '.join(fmt(lt[k]) for k in ('p50', 'p90', 'p99', 'p999')) if lt else '–',
                ', '.join(fmt_int(r['msgs_per_sec']) for r in runs)))
        L.append('')

    micro = load(os.path.join(d, 'micro.json'))
    if micro:
        L.append('## Micro-benchmarks (Google Benchmark, `build/bench/sipwarp_bench`)')
        L.append('')
        L.append('| benchmark | what | ns per item | CPU per iteration | counters |')
        L.append('|---|---|---:|---:|---|')
        skip = {'name', 'run_name', 'run_type', 'repetitions', 'repetition_index', 'threads',
                'iterations', 'real_time', 'cpu_time', 'time_unit', 'items_per_second', 'label',
                'family_index', 'per_family_instance_index', 'aggregate_name', 'error_occurred',
                'error_message', 'bytes_per_second'}
        for b in micro.get('benchmarks', []):
            if b.get('error_occurred'):
                L.append('| %s | %s | error | | |' % (b['name'], b.get('error_message', '')))
                continue
            ips = b.get('items_per_second')
            per = 1e9 / ips if ips else None
            ctr = ', '.join('%s=%s' % (k, fmt(v) if isinstance(v, float) else v)
                            for k, v in b.items() if k not in skip and not k.startswith('ns_per'))
            L.append('| %s | %s | %s | %s %s | %s |' % (
                b['name'], b.get('label', ''), fmt(per), fmt(b['cpu_time']), b['time_unit'], ctr))
        ctx = micro.get('context', {})
        L.append('')
        L.append('Google Benchmark context: %s CPUs at %s MHz, library build %s.' % (
            ctx.get('num_cpus'), ctx.get('mhz_per_cpu'), ctx.get('library_build_type')))
        L.append('')

    if png:
        L.append('## Chart')
        L.append('')
        L.append('![cost per SIP message against rule count](chart.png)')
        L.append('')

    L.append('## How it was measured')
    L.append('')
    L.append('- Kamailio: 5.6 from Debian, `-x tlsf`, `children=2` on one UDP socket (2 UDP '
             'workers), shm sized for the plan; `dialplan` over `db_text` (the workload table, '
             'dpid 1), `dp_translate("1", "$rU/$ru")` (the repl_exp is a whole URI), '
             '`record_route()`, `$du` = the callee, stateless `forward()`; ACK and BYE by '
             '`loose_route()`. Its own network namespace, veths to the caller and callee '
             'namespaces. CPU = delta of `/proc/PID/schedstat` run time of the main process and '
             'every child over a step, divided by 6 × completed calls.')
    L.append('- sipwarp: `--no-huge`, one lcore, two `net_tap` ports whose kernel sides are in '
             'the caller and callee namespaces (tests/integration/lib.sh); the dial plan is the '
             "workload's, converted by rules/tools/wl2dialplan.py, with `$target = "
             '198.18.2.2:5060` added to each rule. Cost = delta of `busy_cycles` / delta of '
             '`busy_pkts` from `sipwarpctl stats.get` (a poll-mode core always shows 100 % CPU), '
             'converted with the TSC frequency.')
    L.append('- Rates: steps of E2E_STEP seconds from the start rate, doubling until a step fails '
             'or the cap, then bisection. A step passes when every call completes, SIPp counts no '
             'retransmission and the calls went out at ≥ 90 % of the rate.')
    L.append('- 10, 1k and 10k rules are ../shared/workload; 100k is generated by '
             'rules/tools/gen_workload.py (same families, seed 1); it has no expected.tsv, so its '
             'check only counts completed calls.')
    L.append('')
    L.append('What the numbers do not say:')
    L.append('')
    L.append("- sipwarp's busy cycles start after `rte_eth_rx_burst` and leave out the TX drain, "
             'so in TAP mode they exclude the read()/write() system calls of the TAP PMD (on a '
             "NIC that work is the PMD's descriptor handling). Kamailio's CPU time includes its "
             'recvfrom()/sendto() calls. The ratio compares SIP work plus socket I/O (Kamailio) '
             'with SIP work alone (sipwarp).')
    L.append("- sipwarp's highest calls/s here is SIPp's, not sipwarp's: its one lcore polls a "
             'whole vCPU at 100 %, leaving the other vCPU to the SIPp caller, the SIPp callee and '
             'the kernel side of both TAPs. Kamailio shares both vCPUs with the two SIPps. The '
             "net_ring capacity column is sipwarp's own ceiling per core.")
    L.append('- With 2 UDP workers Kamailio may pass a 200 before its 180 or a BYE before its '
             'ACK; SIPp runs with `-default_behaviors all,-abortunexp` and those optional '
             'messages, so such reordering does not fail a call.')
    L.append('')
    L.append('Files: `micro.json` (Google Benchmark), `ring-rN-{tput,lat}.json` (with the latency '
             'histogram), `e2e-{sipwarp,kamailio}-rN.json` (every rate step), `env.txt`, '
             '`work/` (plans, logs).')
    with open(os.path.join(d, 'report.md'), 'w') as f:
        f.write('\n'.join(L) + '\n')
    print(os.path.join(d, 'report.md'))


if __name__ == '__main__':
    main()
