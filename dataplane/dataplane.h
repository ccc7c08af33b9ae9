/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file dataplane.h
 * The dataplane door: the SIP message index that the parser builds (no DPDK
 * in that part, so rules/, tests and fuzzers may use it), and the worker API
 * that control/main.c drives.
 *
 * Spans are offsets into the SIP payload (the UDP data), never pointers, so
 * an index stays valid if the mbuf data moves.
 */
#ifndef SW_DATAPLANE_H
#define SW_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* SIP message index                                                        */
/* ------------------------------------------------------------------------ */

/** Largest SIP message we take over UDP (RFC 3261 §18.1.1 allows 65535). */
#define SW_SIP_MAX_MSG 65535
/** Most header lines indexed; more gets 513 Message Too Large (the walk still finds the end). */
#define SW_SIP_MAX_HDRS 64

/** A slice of the message: offset and length from the first byte. */
struct sw_span {
	uint16_t off;
	uint16_t len;
};

/**
 * Header types known to the parser: enum name, full name, compact form
 * (0 when none). Everything else is SW_HDR_OTHER and is found by name.
 */
#define SW_SIP_HDR_LIST(X)                                                                         \
	X(VIA, "Via", 'v')                                                                         \
	X(FROM, "From", 'f')                                                                       \
	X(TO, "To", 't')                                                                           \
	X(CALL_ID, "Call-ID", 'i')                                                                 \
	X(CSEQ, "CSeq", 0)                                                                         \
	X(MAX_FORWARDS, "Max-Forwards", 0)                                                         \
	X(ROUTE, "Route", 0)                                                                       \
	X(RECORD_ROUTE, "Record-Route", 0)                                                         \
	X(CONTACT, "Contact", 'm')                                                                 \
	X(CONTENT_LENGTH, "Content-Length", 'l')                                                   \
	X(CONTENT_TYPE, "Content-Type", 'c')                                                       \
	X(EXPIRES, "Expires", 0)                                                                   \
	X(REQUIRE, "Require", 0)                                                                   \
	X(PROXY_REQUIRE, "Proxy-Require", 0)                                                       \
	X(SUPPORTED, "Supported", 'k')                                                             \
	X(SUBJECT, "Subject", 's')                                                                 \
	X(CONTENT_ENCODING, "Content-Encoding", 'e')                                               \
	X(REFER_TO, "Refer-To", 'r')                                                               \
	X(REFERRED_BY, "Referred-By", 'b')                                                         \
	X(EVENT, "Event", 'o')                                                                     \
	X(ALLOW_EVENTS, "Allow-Events", 'u')                                                       \
	X(SESSION_EXPIRES, "Session-Expires", 'x')                                                 \
	X(USER_AGENT, "User-Agent", 0)

enum sw_hdr_type {
	SW_HDR_OTHER = 0,
#define SW_X_ENUM(e, name, compact) SW_HDR_##e,
	SW_SIP_HDR_LIST(SW_X_ENUM)
#undef SW_X_ENUM
	SW_HDR__COUNT
};

/** Methods as bits, so a rule or a check can test a set of them at once. */
enum sw_sip_method {
	SW_METHOD_UNKNOWN = 0,
	SW_METHOD_INVITE = 1u << 0,
	SW_METHOD_ACK = 1u << 1,
	SW_METHOD_BYE = 1u << 2,
	SW_METHOD_CANCEL = 1u << 3,
	SW_METHOD_OPTIONS = 1u << 4,
	SW_METHOD_REGISTER = 1u << 5,
	SW_METHOD_PRACK = 1u << 6,
	SW_METHOD_SUBSCRIBE = 1u << 7,
	SW_METHOD_NOTIFY = 1u << 8,
	SW_METHOD_PUBLISH = 1u << 9,
	SW_METHOD_INFO = 1u << 10,
	SW_METHOD_REFER = 1u << 11,
	SW_METHOD_MESSAGE = 1u << 12,
	SW_METHOD_UPDATE = 1u << 13,
	SW_METHOD_OTHER = 1u << 15, /**< a syntactically valid extension method */
};

enum sw_uri_scheme { SW_SCHEME_NONE = 0, SW_SCHEME_SIP, SW_SCHEME_SIPS, SW_SCHEME_TEL, SW_SCHEME_OTHER };
enum sw_host_type { SW_HOST_NONE = 0, SW_HOST_NAME, SW_HOST_IPV4, SW_HOST_IPV6 };

/** One header line. */
struct sw_sip_hdr {
	struct sw_span name;  /**< as written (may be the compact form) */
	struct sw_span value; /**< trimmed; folded lines stay inside */
	struct sw_span line;  /**< the whole line with its CRLF: what a removal cuts */
	uint8_t type;         /**< enum sw_hdr_type */
};

/** A SIP/SIPS/TEL URI split into parts; absent parts have len 0. */
struct sw_sip_uri {
	struct sw_span all;
	struct sw_span scheme;
	struct sw_span user;     /**< still escaped, as written */
	struct sw_span password;
	struct sw_span host;     /**< IPv6 references keep their brackets */
	struct sw_span port;
	struct sw_span params;   /**< after the first ';' up to '?' or end, without the ';' */
	struct sw_span headers;  /**< after '?' */
	uint16_t port_num;       /**< 0 when absent */
	uint8_t scheme_type;     /**< enum sw_uri_scheme */
	uint8_t host_type;       /**< enum sw_host_type */
};

/** One Via entry (a header may carry several, comma separated). */
struct sw_sip_via {
	struct sw_span all;       /**< this via-parm, from protocol to the last param */
	struct sw_span transport; /**< UDP, TCP, TLS, SCTP, WS, WSS ... */
	struct sw_span host;      /**< sent-by host, IPv6 with brackets */
	struct sw_span port;
	struct sw_span params;    /**< after the first ';', without it */
	struct sw_span branch;
	struct sw_span received;
	struct sw_span rport; /**< value; len 0 with has_rport = bare ";rport", off
				   right after the name */
	struct sw_span maddr;
	struct sw_span ttl;
	uint16_t port_num;        /**< 0 when absent */
	uint8_t host_type;
	uint8_t has_rport;
	uint8_t hdr;              /**< index in sw_sip_msg.hdr of its line; 0xff past the index */
};

/** A name-addr or addr-spec header value (From, To, Contact, Route ...). */
struct sw_sip_nameaddr {
	struct sw_span all;
	struct sw_span display; /**< quotes kept when quoted */
	struct sw_span tag;     /**< tag= parameter value */
	struct sw_span params;  /**< header parameters after the URI, without the first ';' */
	struct sw_sip_uri uri;
};

/**
 * Why the parser says SW_SIP_DROP: enum name and a short text (the same text
 * as sw_sip_msg.reason). The dataplane counts them all under
 * SW_CNT_DROP_SIP_MALFORMED and may split them further by this code.
 */
#define SW_SIP_DROP_LIST(X)                                                                        \
	X(NONE, "not dropped")                                                                     \
	X(KEEPALIVE, "CRLF keep-alive, not a message")                                             \
	X(NOT_SIP, "not a SIP start line")                                                         \
	X(NO_VIA, "request without a Via: nowhere to answer")                                      \
	X(BAD_VIA, "request whose top Via is malformed: nowhere to answer")                        \
	X(BAD_RESPONSE, "malformed response")

enum sw_sip_drop {
#define SW_X_DROP(e, text) SW_SIP_DROP_##e,
	SW_SIP_DROP_LIST(SW_X_DROP)
#undef SW_X_DROP
	SW_SIP_DROP__COUNT
};

/** What the parser says of a message. */
enum sw_sip_verdict {
	SW_SIP_OK = 0,   /**< well formed: route it */
	SW_SIP_REPLY,    /**< malformed request: answer reply_code with reason */
	SW_SIP_DROP,     /**< unusable (no Via, a bad response ...): drop and count */
};

/** The index. All spans are relative to buf. */
struct sw_sip_msg {
	const char *buf;
	uint32_t len; /**< message length after the body was cut to Content-Length */

	uint8_t is_request;
	uint16_t method; /**< enum sw_sip_method; for responses the CSeq method */
	uint16_t status; /**< responses */
	struct sw_span start_line; /**< without CRLF */
	struct sw_span method_name;
	struct sw_span version;
	struct sw_span reason_phrase;
	struct sw_sip_uri ruri;

	uint16_t nhdr;
	uint8_t first[SW_HDR__COUNT]; /**< index of the first header of a type, 0xff none */
	struct sw_sip_hdr hdr[SW_SIP_MAX_HDRS];
	struct sw_span hdr_end; /**< the empty line that ends the headers (CRLF) */

	/**
	 * Via entries (all headers, all commas), up to one past those parsed
	 * (a request's top one, a response's top two): 2 for a request with
	 * more than one, 3 for a response with more than two, until
	 * SW_SIP_MORE_VIA counts them all.
	 */
	uint8_t nvia;
	/**
	 * Topmost two: ours and the next hop back. A request's via[1] stays
	 * empty until SW_SIP_MORE_VIA: forwarding a request reads only the top
	 * entry (RFC 3261 §16.3 step 1).
	 */
	struct sw_sip_via via[2];
	/**
	 * From and To: all, display, params and tag. The URI inside is only
	 * checked for its shape (a scheme, no white space); uri stays empty
	 * (uri.all.len 0) until SW_SIP_MORE_FROM_TO splits it.
	 */
	struct sw_sip_nameaddr from, to;
	struct sw_span call_id;
	struct sw_span cseq_method;
	uint32_t cseq_num;
	int32_t max_forwards;    /**< -1 when absent */
	int32_t content_length;  /**< -1 when absent */
	struct sw_span body;

	/* verdict details */
	uint16_t reply_code;     /**< for SW_SIP_REPLY */
	const char *reason;      /**< static text naming the fault (reply or drop) */

	uint8_t drop;            /**< enum sw_sip_drop: why SW_SIP_DROP (NONE otherwise) */
	uint8_t nroute;          /**< Route entries (all headers, all commas) */
	uint8_t nrecord_route;   /**< Record-Route entries (SW_SIP_MORE_RECORD_ROUTE) */
	/* ncontact, contact_star, contact: filled by SW_SIP_MORE_CONTACT */
	uint8_t ncontact;        /**< Contact entries; 0 with contact_star for "*" */
	uint8_t contact_star;    /**< Contact: * (REGISTER removal, RFC 3261 §10.2.2) */
	uint8_t more_done;       /**< enum sw_sip_more: the lazy parts parsed so far */
	uint8_t more_bad;        /**< enum sw_sip_more: the lazy parts found malformed */
	struct sw_sip_nameaddr route;   /**< topmost Route entry (uri.all.len 0 when none) */
	struct sw_sip_nameaddr contact; /**< first Contact entry (not for "*") */
	int64_t expires;         /**< Expires header, -1 when absent (SW_SIP_MORE_EXPIRES) */
	const char *more_reason; /**< static text of the first fault sw_sip_parse_more() found */
	/**
	 * 420: the option tags of the first Proxy-Require header (RFC 3261
	 * §16.3 step 4, sipwarp supports none), to copy into Unsupported;
	 * further Proxy-Require lines via sw_sip_hdr_next().
	 */
	struct sw_span unsupported;
};

/**
 * Parse a SIP message held contiguously in buf.
 * No allocation; bounded work per byte; safe on hostile input.
 * @param m    index to fill (fully overwritten)
 * @param buf  message bytes (the UDP payload)
 * @param len  length of buf; more than SW_SIP_MAX_MSG gives a 513 verdict
 * @return the verdict; m->reply_code and m->reason say why when not SW_SIP_OK.
 *         Over UDP a body longer than Content-Length is cut (m->len shrinks).
 */
enum sw_sip_verdict sw_sip_parse(struct sw_sip_msg *m, const char *buf, size_t len);

/**
 * The parts of the index that sw_sip_parse() leaves alone, as bits. A proxy
 * neither reads nor changes them when it forwards (RFC 3261 §16.3 step 1:
 * "Any other components, well-formed or not, SHOULD be ignored and remain
 * unchanged when the message is forwarded"), so their syntax does not hold
 * up routing; sw_sip_parse_more() parses them for whoever needs them.
 */
enum sw_sip_more {
	SW_SIP_MORE_CONTACT = 1u << 0,      /**< ncontact, contact_star, contact */
	SW_SIP_MORE_RECORD_ROUTE = 1u << 1, /**< nrecord_route */
	SW_SIP_MORE_EXPIRES = 1u << 2,      /**< expires */
	SW_SIP_MORE_CHECKS = 1u << 3,       /**< Content-Type, Require, Supported syntax */
	SW_SIP_MORE_VIA = 1u << 4,          /**< a request's via[1]; nvia; the rest's syntax */
	SW_SIP_MORE_FROM_TO = 1u << 5,      /**< from.uri and to.uri, split and checked */
	SW_SIP_MORE_ALL = 0x3f,
};

/**
 * Parse the lazy parts named by what (enum sw_sip_more bits) of a message
 * that sw_sip_parse() indexed; each part is parsed once, later calls only
 * report. No allocation; any thread that owns m.
 * @return 0 when every part asked for is well formed, -EINVAL when one is
 *         not (m->more_bad says which, m->more_reason why). The fields of
 *         a malformed part are left as far as they got.
 */
int sw_sip_parse_more(struct sw_sip_msg *m, unsigned what);

/** First header with this name (full or compact form, any case), or NULL. */
const struct sw_sip_hdr *sw_sip_hdr_find(const struct sw_sip_msg *m, const char *name,
					 size_t name_len);

/** Next header of the same name after prev, or NULL. */
const struct sw_sip_hdr *sw_sip_hdr_next(const struct sw_sip_msg *m, const struct sw_sip_hdr *prev);

/**
 * Split a URI held in buf[s] into parts.
 * @return 0 on success, -EINVAL if it is not a valid URI.
 */
int sw_sip_uri_parse(const char *buf, struct sw_span s, struct sw_sip_uri *u);

/**
 * Parse a name-addr / addr-spec header value (From, To, Contact, Route ...).
 * @return 0 on success, -EINVAL when malformed.
 */
int sw_sip_nameaddr_parse(const char *buf, struct sw_span s, struct sw_sip_nameaddr *na);

/**
 * Find parameter name in a ';'-separated parameter list span.
 * @return 1 found (val set; len 0 for a bare flag), 0 not found.
 */
int sw_sip_param_find(const char *buf, struct sw_span params, const char *name, size_t name_len,
		      struct sw_span *val);

/**
 * Next entry of a comma-separated name-addr list (Route, Record-Route,
 * Contact) held in the value span list. Start with *pos = list.off.
 * @return 1 with na filled and *pos moved past it, 0 at the end of the list,
 *         -EINVAL when the entry is malformed.
 */
int sw_sip_nameaddr_next(const char *buf, struct sw_span list, uint32_t *pos,
			 struct sw_sip_nameaddr *na);

/** Text of a drop reason (enum sw_sip_drop). */
const char *sw_sip_drop_name(unsigned drop);

/** Compare a span with a C string ignoring ASCII case. */
bool sw_span_ieq(const char *buf, struct sw_span s, const char *str, size_t len);

/* ------------------------------------------------------------------------ */
/* Workers                                                                  */
/* ------------------------------------------------------------------------ */

struct rte_mempool;
struct rte_ring;
struct sw_ruleset;
struct sw_dp;

#define SW_DP_MAX_PORTS 8
#define SW_DP_MAX_ADDRS 16
#define SW_DP_MAX_WORKERS 64
#define SW_DP_MAX_ROUTES 64

/** An IPv4 or IPv6 address. */
struct sw_addr {
	uint8_t family; /**< AF_INET or AF_INET6 */
	uint8_t bytes[16];
};

/** A local address on a port, with the prefix of its connected network. */
struct sw_dp_local {
	uint16_t port;
	uint16_t vlan; /**< 802.1Q VLAN id, 0 = untagged */
	uint8_t plen;
	struct sw_addr addr;
};

/** A static route: prefix via gateway (on the port whose network holds it). */
struct sw_dp_route {
	struct sw_addr prefix;
	uint8_t plen;
	struct sw_addr via;
};

/** Everything the dataplane needs; filled by control/main.c. */
struct sw_dp_conf {
	uint16_t nb_ports;
	uint16_t port_ids[SW_DP_MAX_PORTS];
	/** TX checksum offloads (RTE_ETH_TX_OFFLOAD_*) each port was configured with. */
	uint64_t tx_offloads[SW_DP_MAX_PORTS];
	uint16_t nb_locals;
	struct sw_dp_local locals[SW_DP_MAX_ADDRS];
	uint16_t nb_routes;
	struct sw_dp_route routes[SW_DP_MAX_ROUTES];
	uint16_t sip_port;        /**< UDP port we listen on (5060) */
	uint16_t nomatch_code;    /**< final answer when no rule matches (404) */
	bool record_route;        /**< Record-Route dialog-creating requests by default */
	uint16_t nb_workers;      /**< each owns queue i on every port */
	unsigned worker_lcores[SW_DP_MAX_WORKERS];
	struct rte_mempool *pool; /**< for replies and slow-path packets */
	/** The RCU slot holding the live ruleset; read with rcu_dereference. */
	struct sw_ruleset **ruleset_slot;
	/** ARS call counters (Max Sessions, CPS) the rulesets are bound to; NULL: no caps. */
	struct sw_ars_state *ars;
};

/** Size of the mbuf private area the dataplane needs (give it to the pool). */
#define SW_DP_MBUF_PRIV_SIZE 32

/**
 * Create the dataplane: neighbour table, slow-path rings, per-worker state.
 * Control thread, before launch. Returns NULL with *err set to a message.
 */
struct sw_dp *sw_dp_create(const struct sw_dp_conf *conf, const char **err);

/** The worker entry point for rte_eal_remote_launch (arg: struct sw_dp *). */
int sw_dp_worker_main(void *arg);

/**
 * One iteration of worker idx's loop: RX on every port, SIP, buffered TX,
 * the drain deadline. For tests and benchmarks that drive a worker from
 * their own thread; the caller reports RCU quiescent states itself.
 * @return packets received.
 */
unsigned sw_dp_worker_poll(struct sw_dp *dp, unsigned idx);

/** Send whatever worker idx has buffered. Same thread as sw_dp_worker_poll. */
void sw_dp_worker_flush(struct sw_dp *dp, unsigned idx);

/** Ask every worker and the slow path to stop at their next loop. Signal safe. */
void sw_dp_stop(struct sw_dp *dp);

/** True once sw_dp_stop was called. */
bool sw_dp_stopping(const struct sw_dp *dp);

/**
 * Run the slow path once: ARP/ND/ICMP answers, neighbour resolution, packets
 * held for resolution. Called in a loop by the control room's slow-path
 * thread (never by a worker). Returns packets handled.
 */
unsigned sw_dp_slowpath_poll(struct sw_dp *dp);

/** Free everything sw_dp_create made. Workers must have stopped. */
void sw_dp_free(struct sw_dp *dp);

/** Counters, one line each in counters.def. */
enum sw_counter {
#define SW_CNT(e, name, help) SW_CNT_##e,
#include "counters.def"
#undef SW_CNT
	SW_CNT__COUNT
};

/** Name and help text of counter c. */
const char *sw_counter_name(enum sw_counter c);
const char *sw_counter_help(enum sw_counter c);

/**
 * Sum every worker's counters (and the slow path's) into out[SW_CNT__COUNT].
 * Any thread; values may be a loop behind.
 */
void sw_dp_counters(const struct sw_dp *dp, uint64_t *out);

/** One worker's counters into out[SW_CNT__COUNT]; -EINVAL for a bad index. */
int sw_dp_worker_counters(const struct sw_dp *dp, unsigned worker, uint64_t *out);

#ifdef __cplusplus
}
#endif

#endif /* SW_DATAPLANE_H */
