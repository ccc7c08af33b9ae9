/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipwarp-explain: run one SIP message against a dial plan offline and say
 * which rule wins and why the earlier ones do not (the same text as the
 * control socket's dialplan.explain).
 *
 *   sipwarp-explain -d dialplan [-a ars] [-g gateways.json] [-s addr] [-p port]
 *                   [-t UDP|TCP|TLS|WS|WSS] [-l] [-T unixtime] message.txt|-
 *
 * The message file may use LF or CRLF line ends; -l says it came from one of
 * our own addresses ($localhost = true).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "rules/ruleset.h"

int
main(int argc, char **argv)
{
	struct sw_rules_src src = {.nb_workers = 1};
	const char *addr = "198.18.0.2";
	unsigned port = 5060;
	uint8_t tr = SW_TRANSPORT_UDP;
	bool local = false;
	int64_t now = (int64_t)time(NULL);
	int c;
	while ((c = getopt(argc, argv, "d:a:g:s:p:t:lT:h")) != -1) {
		switch (c) {
		case 'd': src.dialplan = optarg; break;
		case 'a': src.ars = optarg; break;
		case 'g': src.gateways = optarg; break;
		case 's': addr = optarg; break;
		case 'p': port = (unsigned)atoi(optarg); break;
		case 'l': local = true; break;
		case 'T': now = atoll(optarg); break;
		case 't': {
			static const char *n[] = {"UDP", "TCP", "TLS", "WS", "WSS"};
			for (uint8_t i = 0; i < 5; i++)
				if (strcasecmp(optarg, n[i]) == 0)
					tr = i;
			break;
		}
		default:
			fprintf(stderr, "usage: %s -d dialplan [-a ars] [-g gateways.json] [-s addr] [-p port] "
					"[-t transport] [-l] [-T unixtime] message|-\n", argv[0]);
			return 2;
		}
	}
	if (optind >= argc || (!src.dialplan && !src.ars)) {
		fprintf(stderr, "%s: a dial plan (-d) or ARS file (-a) and a message file are needed\n", argv[0]);
		return 2;
	}
	FILE *f = strcmp(argv[optind], "-") == 0 ? stdin : fopen(argv[optind], "rb");
	if (f == NULL) {
		perror(argv[optind]);
		return 2;
	}
	static char raw[65536], msg[70000];
	size_t n = fread(raw, 1, sizeof(raw) - 1, f), k = 0;
	if (f != stdin)
		fclose(f);
	/* LF -> CRLF so that hand-written files parse */
	for (size_t i = 0; i < n && k + 2 < sizeof(msg); i++) {
		if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
			msg[k++] = '\r';
		msg[k++] = raw[i];
	}
	struct sw_addr a = {0};
	if (inet_pton(AF_INET, addr, a.bytes) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, a.bytes) == 1)
		a.family = AF_INET6;
	else {
		fprintf(stderr, "bad source address %s\n", addr);
		return 2;
	}
	struct sw_diag d;
	sw_diag_init(&d);
	struct sw_ruleset *rs = sw_ruleset_compile(&src, &d);
	if (d.text)
		fputs(d.text, stderr);
	if (rs == NULL)
		return 1;
	const char *err = NULL;
	char *text = sw_ruleset_explain_text(rs, msg, k, &a, (uint16_t)port, tr, local, now, &err);
	if (text == NULL) {
		fprintf(stderr, "message: %s\n", err);
		sw_ruleset_free(rs);
		return 1;
	}
	fputs(text, stdout);
	free(text);
	sw_ruleset_free(rs);
	sw_diag_free(&d);
	return 0;
}
