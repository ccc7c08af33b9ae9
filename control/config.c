/* SPDX-License-Identifier: BSD-3-Clause */
/* sipwarp's own command-line options (those after the EAL's "--"). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/control.h"

enum {
	OPT_NO_MATCH = 256,
	OPT_ROUTE,
	OPT_NO_RR,
	OPT_EXPLAIN,
	OPT_EXPLAIN_SRC,
	OPT_STATS,
	OPT_MBUFS,
	OPT_VERSION,
};

static const struct option long_opts[] = {
	{"dialplan", required_argument, NULL, 'd'},
	{"gateways", required_argument, NULL, 'g'},
	{"ars", required_argument, NULL, 'r'},
	{"port", required_argument, NULL, 'p'},
	{"addr", required_argument, NULL, 'a'},
	{"next-hop", required_argument, NULL, 'n'},
	{"route", required_argument, NULL, OPT_ROUTE},
	{"sip-port", required_argument, NULL, 'P'},
	{"no-match", required_argument, NULL, OPT_NO_MATCH},
	{"no-record-route", no_argument, NULL, OPT_NO_RR},
	{"workers", required_argument, NULL, 'w'},
	{"ctl-socket", required_argument, NULL, 's'},
	{"explain", required_argument, NULL, OPT_EXPLAIN},
	{"explain-src", required_argument, NULL, OPT_EXPLAIN_SRC},
	{"stats-interval", required_argument, NULL, OPT_STATS},
	{"mbufs", required_argument, NULL, OPT_MBUFS},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

void
sw_config_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [EAL options] -- [options]\n"
		"\n"
		"Rules:\n"
		"  -d, --dialplan FILE        dial plan (required)\n"
		"  -g, --gateways FILE        gateway JSON\n"
		"  -r, --ars FILE             ARS routes\n"
		"      --no-match CODE        answer when no rule matches (default 404)\n"
		"      --no-record-route      do not Record-Route dialog-creating requests\n"
		"      --explain FILE         print the decision for the SIP message in FILE, exit\n"
		"      --explain-src ADDR:PORT  source of that message (default 198.18.0.2:5060)\n"
		"Network:\n"
		"  -p, --port SPEC            port to open: vdev devargs (net_tap0,iface=sw0) or PCI\n"
		"                             address (0000:03:00.0); repeat; numbered 0, 1, ...\n"
		"  -a, --addr PORT[.VLAN]:ADDR/PLEN  local address on port index PORT, on an\n"
		"                             802.1Q VLAN if given; repeat (e.g. 0:198.18.1.1/24,\n"
		"                             1:2001:db8:2::1/64, 0.100:198.18.5.1/24)\n"
		"  -n, --next-hop ADDR        default route, one per address family\n"
		"      --route PREFIX/PLEN@ADDR  static route\n"
		"  -P, --sip-port N           UDP port for SIP (default 5060)\n"
		"Threads:\n"
		"  -w, --workers LCORES       worker lcores, e.g. 1-3 or 1,3 (default: every lcore\n"
		"                             but the main one; the main one when it is alone)\n"
		"      --mbufs N              mbufs in the pool (default 16383)\n"
		"Control:\n"
		"  -s, --ctl-socket PATH      control socket (default /run/sipwarp/ctl.sock)\n"
		"      --stats-interval S     log the counters every S seconds (0 = off)\n"
		"  -h, --help                 this text\n"
		"      --version              the version\n",
		prog);
}

static int
bad(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int
bad(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int
sw_addr_parse(const char *s, size_t len, struct sw_addr *a)
{
	char tmp[INET6_ADDRSTRLEN + 2];

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, tmp, a->bytes) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, a->bytes) == 1)
		a->family = AF_INET6;
	else
		return -EINVAL;
	return 0;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || *out > max)
		return -EINVAL;
	return 0;
}

/* "ADDR/PLEN" */
static int
parse_prefix(const char *s, struct sw_addr *a, uint8_t *plen)
{
	const char *slash = strchr(s, '/');
	unsigned long p;

	if (slash == NULL || sw_addr_parse(s, slash - s, a) != 0)
		return -EINVAL;
	if (parse_uint(slash + 1, a->family == AF_INET ? 32 : 128, &p) != 0)
		return -EINVAL;
	*plen = (uint8_t)p;
	return 0;
}

static int
parse_workers(struct sw_config *cfg, const char *s, char *err, size_t err_len)
{
	const char *p = s;

	cfg->dp.nb_workers = 0;
	while (*p != '\0') {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;

		if (end == p)
			return bad(err, err_len, "bad worker list \"%s\"", s);
		if (*end == '-') {
			p = end + 1;
			b = strtoul(p, &end, 10);
			if (end == p || b < a)
				return bad(err, err_len, "bad worker list \"%s\"", s);
		}
		for (unsigned long l = a; l <= b; l++) {
			if (cfg->dp.nb_workers == SW_DP_MAX_WORKERS)
				return bad(err, err_len, "more than %u workers", SW_DP_MAX_WORKERS);
			cfg->dp.worker_lcores[cfg->dp.nb_workers++] = (unsigned)l;
		}
		if (*end == ',')
			end++;
		else if (*end != '\0')
			return bad(err, err_len, "bad worker list \"%s\"", s);
		p = end;
	}
	return 0;
}

int
sw_config_parse(struct sw_config *cfg, int argc, char **argv, char *err, size_t err_len)
{
	unsigned long v;
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->ctl_socket = "/run/sipwarp/ctl.sock";
	cfg->mbufs = 16383;
	cfg->dp.sip_port = 5060;
	cfg->dp.nomatch_code = 404;
	cfg->dp.record_route = true;
	optind = 0; /* full re-initialisation: the EAL used getopt before us */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:g:r:p:a:n:P:w:s:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			cfg->dialplan = optarg;
			break;
		case 'g':
			cfg->gateways = optarg;
			break;
		case 'r':
			cfg->ars = optarg;
			break;
		case 'p':
			if (cfg->nb_port_specs == SW_CFG_MAX_PORTS)
				return bad(err, err_len, "more than %u ports", SW_CFG_MAX_PORTS);
			cfg->port_specs[cfg->nb_port_specs++] = optarg;
			break;
		case 'a': {
			const char *colon = strchr(optarg, ':');
			struct sw_dp_local *l;

			if (cfg->dp.nb_locals == SW_DP_MAX_ADDRS)
				return bad(err, err_len, "more than %u addresses", SW_DP_MAX_ADDRS);
			l = &cfg->dp.locals[cfg->dp.nb_locals];
			char port[8];
			if (colon == NULL || colon - optarg >= (long)sizeof(port))
				return bad(err, err_len, "--addr \"%s\": expected PORT:ADDR/PLEN",
					   optarg);
			memcpy(port, optarg, colon - optarg);
			port[colon - optarg] = '\0';
			/* PORT[.VLAN] */
			char *dot = strchr(port, '.');
			unsigned long vlan = 0;

			if (dot != NULL) {
				*dot = '\0';
				if (parse_uint(dot + 1, 4094, &vlan) != 0 || vlan == 0)
					return bad(err, err_len,
						   "--addr \"%s\": VLAN must be 1 to 4094", optarg);
			}
			if (parse_uint(port, SW_DP_MAX_PORTS - 1, &v) != 0 ||
			    parse_prefix(colon + 1, &l->addr, &l->plen) != 0)
				return bad(err, err_len,
					   "--addr \"%s\": expected PORT[.VLAN]:ADDR/PLEN", optarg);
			l->port = (uint16_t)v;
			l->vlan = (uint16_t)vlan;
			cfg->dp.nb_locals++;
			break;
		}
		case 'n':
		case OPT_ROUTE: {
			struct sw_dp_route *r;
			const char *at = c == 'n' ? optarg - 1 : strchr(optarg, '@');

			if (cfg->dp.nb_routes == SW_DP_MAX_ROUTES)
				return bad(err, err_len, "more than %u routes", SW_DP_MAX_ROUTES);
			r = &cfg->dp.routes[cfg->dp.nb_routes];
			if (at == NULL || sw_addr_parse(at + 1, strlen(at + 1), &r->via) != 0)
				return bad(err, err_len, "%s \"%s\": bad gateway address",
					   c == 'n' ? "--next-hop" : "--route", optarg);
			if (c == 'n') {
				memset(&r->prefix, 0, sizeof(r->prefix));
				r->prefix.family = r->via.family;
				r->plen = 0;
			} else {
				char pfx[INET6_ADDRSTRLEN + 8];

				if (at - optarg >= (long)sizeof(pfx))
					return bad(err, err_len, "--route \"%s\": bad prefix", optarg);
				memcpy(pfx, optarg, at - optarg);
				pfx[at - optarg] = '\0';
				if (parse_prefix(pfx, &r->prefix, &r->plen) != 0 ||
				    r->prefix.family != r->via.family)
					return bad(err, err_len,
						   "--route \"%s\": expected PREFIX/PLEN@ADDR", optarg);
			}
			cfg->dp.nb_routes++;
			break;
		}
		case 'P':
			if (parse_uint(optarg, 65535, &v) != 0 || v == 0)
				return bad(err, err_len, "--sip-port \"%s\": not a port number", optarg);
			cfg->dp.sip_port = (uint16_t)v;
			break;
		case OPT_NO_MATCH:
			if (parse_uint(optarg, 699, &v) != 0 || v < 300)
				return bad(err, err_len, "--no-match \"%s\": not a final status code",
					   optarg);
			cfg->dp.nomatch_code = (uint16_t)v;
			break;
		case OPT_NO_RR:
			cfg->dp.record_route = false;
			break;
		case 'w':
			if (parse_workers(cfg, optarg, err, err_len) != 0)
				return -EINVAL;
			cfg->workers = optarg;
			break;
		case 's':
			cfg->ctl_socket = optarg;
			break;
		case OPT_EXPLAIN:
			cfg->explain = optarg;
			break;
		case OPT_EXPLAIN_SRC:
			cfg->explain_src = optarg;
			break;
		case OPT_STATS:
			if (parse_uint(optarg, 86400, &v) != 0)
				return bad(err, err_len, "--stats-interval \"%s\": not a number", optarg);
			cfg->log_stats = (int)v;
			break;
		case OPT_MBUFS:
			if (parse_uint(optarg, 1u << 24, &v) != 0 || v < 1024)
				return bad(err, err_len, "--mbufs \"%s\": 1024 or more", optarg);
			cfg->mbufs = (unsigned)v;
			break;
		case 'h':
			sw_config_usage(stdout, argv[0]);
			return 1;
		case OPT_VERSION:
			printf("sipwarp %s\n", SW_VERSION);
			return 1;
		case ':':
			return bad(err, err_len, "option \"%s\" needs a value", argv[optind - 1]);
		default:
			return bad(err, err_len, "unknown option \"%s\" (see --help)",
				   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad(err, err_len, "unexpected argument \"%s\" (see --help)", argv[optind]);
	if (cfg->dialplan == NULL)
		return bad(err, err_len, "no dial plan: give one with -d FILE");
	if (cfg->explain == NULL && cfg->nb_port_specs == 0)
		return bad(err, err_len, "no port: give one with -p SPEC");
	for (unsigned i = 0; i < cfg->dp.nb_locals; i++)
		if (cfg->explain == NULL && cfg->dp.locals[i].port >= cfg->nb_port_specs)
			return bad(err, err_len, "--addr names port %u, but only %u ports are given",
				   cfg->dp.locals[i].port, cfg->nb_port_specs);
	return 0;
}
