/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP parse kernel: sw_sip_parse() over a corpus of ready messages. The
 * index lives in static storage, as it would in the mbuf private area, so
 * the kernel allocates nothing.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/kernels.h"
#include "dataplane/dataplane.h"

#define CRLF "\r\n"

/* A 911 B INVITE as a carrier edge sees it: two proxies on the path, SDP offer. */
static const char invite[] =
	"INVITE sip:+4930123456789@gw1.carrier.example.net;user=phone SIP/2.0" CRLF
	"Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK-524287-1---abc123def456;rport" CRLF
	"Via: SIP/2.0/UDP 198.18.1.20:5060;received=198.18.1.21;branch=z9hG4bK77ef4c2312983.1" CRLF
	"Max-Forwards: 68" CRLF "Record-Route: <sip:198.18.0.10;lr;ftag=as5f7e3a21>" CRLF
	"From: \"Alice Example\" "
	"<sip:+4930987654321@pbx.example.com;user=phone>;tag=as5f7e3a21" CRLF
	"To: <sip:+4930123456789@carrier.example.net;user=phone>" CRLF
	"Call-ID: 3c26700b4b6b-8bnvqa5nx1mq@pbx.example.com" CRLF "CSeq: 102 INVITE" CRLF
	"Contact: <sip:+4930987654321@198.18.1.20:5060;transport=udp>" CRLF
	"Supported: replaces, timer" CRLF "Content-Type: application/sdp" CRLF
	"Content-Length: 248" CRLF CRLF "v=0" CRLF
	"o=root 1832794327 1832794327 IN IP4 198.18.1.20" CRLF "s=ExamplePBX" CRLF
	"c=IN IP4 198.18.1.20" CRLF "t=0 0" CRLF "m=audio 16384 RTP/AVP 8 0 101" CRLF
	"a=rtpmap:8 PCMA/8000" CRLF "a=rtpmap:0 PCMU/8000" CRLF
	"a=rtpmap:101 telephone-event/8000" CRLF "a=fmtp:101 0-16" CRLF "a=ptime:20" CRLF
	"a=sendrecv" CRLF;

/* Its 368 B 200 OK on the way back. */
static const char ok200[] =
	"SIP/2.0 200 OK" CRLF
	"Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK-524287-1---abc123def456;rport=5060" CRLF
	"Via: SIP/2.0/UDP 198.18.1.20:5060;branch=z9hG4bK77ef4c23" CRLF
	"From: <sip:+4930987654321@pbx.example.com>;tag=as5f7e3a21" CRLF
	"To: <sip:+4930123456789@carrier.example.net>;tag=1a2b3c4d" CRLF
	"Call-ID: 3c26700b4b6b-8bnvqa5nx1mq@pbx.example.com" CRLF "CSeq: 102 INVITE" CRLF
	"Content-Length: 0" CRLF CRLF;

static const char ack[] = "ACK sip:+4930123456789@198.18.2.30:5060 SIP/2.0" CRLF
			  "Via: SIP/2.0/UDP 198.18.1.20:5060;branch=z9hG4bK25a4c8e1;rport" CRLF
			  "Max-Forwards: 70" CRLF "Route: <sip:198.18.0.10;lr;ftag=as5f7e3a21>" CRLF
			  "From: <sip:+4930987654321@pbx.example.com>;tag=as5f7e3a21" CRLF
			  "To: <sip:+4930123456789@carrier.example.net>;tag=1a2b3c4d" CRLF
			  "Call-ID: 3c26700b4b6b-8bnvqa5nx1mq@pbx.example.com" CRLF
			  "CSeq: 102 ACK" CRLF "Content-Length: 0" CRLF CRLF;

static struct sw_sip_msg msg;

#define ONE(name, s)                                                                               \
	{                                                                                          \
		name, 1, (const char *const[]){s}, (const size_t[])                                \
		{                                                                                  \
			sizeof(s) - 1                                                              \
		}                                                                                  \
	}

static const struct k_corpus fixed[] = {
	[K_PARSE_INVITE] = ONE("invite", invite),
	[K_PARSE_OK200] = ONE("200ok", ok200),
	[K_PARSE_ACK] = ONE("ack", ack),
};

#define MAX_TORTURE 64

static struct k_corpus torture = {"torture", 0, NULL, NULL};
static const char *torture_msg[MAX_TORTURE];
static size_t torture_len[MAX_TORTURE];

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Setup, not timed: read every rfc4475-* file of dir. */
static const struct k_corpus *
load_torture(const char *dir)
{
	char *names[MAX_TORTURE];
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL && n < MAX_TORTURE)
		if (strncmp(e->d_name, "rfc4475-", 8) == 0)
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp);
	for (size_t i = 0; i < n; i++) {
		char path[1024];
		FILE *f;
		char *buf = malloc(SW_SIP_MAX_MSG);

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		free(names[i]);
		f = fopen(path, "rb");
		if (f == NULL || buf == NULL) {
			free(buf);
			if (f)
				fclose(f);
			continue;
		}
		torture_len[torture.n] = fread(buf, 1, SW_SIP_MAX_MSG, f);
		torture_msg[torture.n++] = buf;
		fclose(f);
	}
	torture.msg = torture_msg;
	torture.len = torture_len;
	return torture.n ? &torture : NULL;
}

const struct k_corpus *
k_parse_corpus(enum k_parse_set which, const char *dir)
{
	if (which < K_PARSE_TORTURE)
		return &fixed[which];
	if (which == K_PARSE_TORTURE)
		return torture.n ? &torture : load_torture(dir);
	return NULL;
}

uint64_t
k_parse(const struct k_corpus *c)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < c->n; i++) {
		enum sw_sip_verdict v = sw_sip_parse(&msg, c->msg[i], c->len[i]);

		sum += (uint64_t)v + msg.nhdr + msg.len + msg.via[0].branch.len;
	}
	return sum;
}
