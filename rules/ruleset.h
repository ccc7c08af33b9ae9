/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file ruleset.h
 * The rules door: compile dial plan + ARS + gateway sources into one
 * immutable ruleset, match a parsed SIP message against it, explain a match.
 *
 * Build time and run time are split: sw_ruleset_compile() and
 * sw_ruleset_free() run on the control thread only; sw_ruleset_match() is
 * const and safe on any worker with that worker's own scratch. No DPDK here;
 * the matcher reads the parser's index (dataplane/dataplane.h, SIP part).
 */
#ifndef SW_RULESET_H
#define SW_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/dataplane.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sw_ruleset;
struct sw_rules_scratch;
struct sw_ars_state;

/* ------------------------------------------------------------------------ */
/* Diagnostics                                                              */
/* ------------------------------------------------------------------------ */

/**
 * Collected diagnostics, gcc style, one per line:
 * "dialplan.txt:42:17: error: unknown variable \"$requets\"" followed by the
 * echoed line ("    >>> $requets = ^INVITE").
 */
struct sw_diag {
	char *text;        /**< NUL-terminated, malloc'd; NULL when empty */
	size_t len, cap;
	unsigned errors;
	unsigned warnings;
};

/** Start empty. */
void sw_diag_init(struct sw_diag *d);
/** Free the text. */
void sw_diag_free(struct sw_diag *d);
/** Append one diagnostic; kind is "error", "warning" or "note"; line may be NULL. */
void sw_diag_add(struct sw_diag *d, const char *file, unsigned line, unsigned col,
		 const char *kind, const char *srcline, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* ------------------------------------------------------------------------ */
/* Compile                                                                  */
/* ------------------------------------------------------------------------ */

/** Where the sources are. Any path may be NULL. */
struct sw_rules_src {
	const char *dialplan; /**< dial-plan file (may include others) */
	const char *ars;      /**< ARS routes file */
	const char *gateways; /**< gateway JSON */
	unsigned nb_workers;  /**< scratch spaces to allocate (>= 1) */
	unsigned flags;       /**< SW_RULES_* below; 0 for the defaults */
};

/** Compile flags (benchmarks and differential tests compare the engines). */
#define SW_RULES_NO_TRIE 0x1u /**< no prefix trie: Hyperscan takes every pattern */
#define SW_RULES_NO_HS 0x2u   /**< no Hyperscan/trie: every rule evaluated with PCRE2 in order */

/**
 * Compile dial plan + ARS + gateways into an immutable ruleset.
 * Not multi-thread safe: control thread only. On failure returns NULL and
 * appends every file:line:col error to *diag; warnings (a pattern Hyperscan
 * refused and PCRE2 took, ...) are appended on success too.
 */
struct sw_ruleset *sw_ruleset_compile(const struct sw_rules_src *src, struct sw_diag *diag);

/** Free a ruleset and its scratch spaces. NULL is fine. Control thread only. */
void sw_ruleset_free(struct sw_ruleset *rs);

/** Scratch of worker w (w < nb_workers), owned by the ruleset. */
struct sw_rules_scratch *sw_ruleset_scratch(const struct sw_ruleset *rs, unsigned w);

/** Counts for ruleset.info. */
struct sw_ruleset_info {
	unsigned rules;       /**< dial-plan rules (preliminary included) */
	unsigned routes;      /**< ARS routes */
	unsigned gateways;
	uint64_t build_ns;    /**< compile wall time */
	size_t mem_bytes;     /**< approximate memory held */
	uint8_t sha256[32];   /**< of the concatenated source files */
	unsigned hs_patterns;   /**< patterns decided by Hyperscan */
	unsigned trie_patterns; /**< patterns decided by the prefix trie */
	unsigned pcre_only;     /**< patterns Hyperscan refused (PCRE2 on every message) */
	unsigned ars_patterns;  /**< ARS IN + OUT patterns */
};
void sw_ruleset_get_info(const struct sw_ruleset *rs, struct sw_ruleset_info *info);

/* ------------------------------------------------------------------------ */
/* Gateways (reference/003 JSON), for the control room and the companion    */
/* ------------------------------------------------------------------------ */

/** One gateway as loaded. Strings are never NULL ("" when absent). */
struct sw_gateway_info {
	const char *name;
	bool reg;                 /**< param.register */
	const char *realm;        /**< host[:port] as written */
	const char *host;         /**< realm host (IPv6 without brackets) */
	uint16_t port;            /**< realm port, 5060 when absent */
	const char *transport;    /**< register-transport: "udp" or "tcp" */
	const char *username, *password, *auth_username;
	const char *from_user, *from_domain;
	const char *destination_prefix;
	bool caller_id_in_from;
	const char *extension;
	bool extension_in_contact;
	int expire_seconds;       /**< default 3600 */
	int retry_seconds;        /**< default 30 */
	int ping;                 /**< OPTIONS interval, 0 = off */
	const char *context;
	const char *variables_json; /**< the "variables" object, compact JSON */
	bool needs_auth;          /**< has credentials: calls go down the slow path */
};

/** Number of gateways; gateway i (NULL when out of range). Any thread. */
unsigned sw_ruleset_gateway_count(const struct sw_ruleset *rs);
const struct sw_gateway_info *sw_ruleset_gateway(const struct sw_ruleset *rs, unsigned i);

/* ------------------------------------------------------------------------ */
/* Match                                                                    */
/* ------------------------------------------------------------------------ */

enum sw_transport { SW_TRANSPORT_UDP = 0, SW_TRANSPORT_TCP, SW_TRANSPORT_TLS, SW_TRANSPORT_WS,
		    SW_TRANSPORT_WSS };

/** The message and its context. */
struct sw_match_in {
	const struct sw_sip_msg *msg;
	struct sw_addr src;     /**< source address ($addr) */
	uint16_t src_port;      /**< source port ($port) */
	uint16_t local_port;    /**< our port it arrived on */
	uint8_t transport;      /**< enum sw_transport */
	bool src_is_local;      /**< $localhost: came from one of our addresses */
	int64_t now;            /**< unix time in seconds (taken once per burst) */
	const struct sw_addr *locals; /**< our addresses, for $localhost(Header); may be NULL */
	unsigned nb_locals;
	/** ARS call counters for the Max Sessions and CPS caps; NULL: no caps. */
	struct sw_ars_state *ars;
	uint16_t worker;        /**< the caller's worker index (its row in ars) */
	uint8_t call;           /**< enum sw_match_call: which caps apply */
	uint8_t prepared;	/**< 1 + msg's index in the last sw_ruleset_match_prepare()
				     on this scratch, when that was for this burst; else 0 */
};

/** What the caps of ARS OUT patterns (Max Sessions, CPS) do with a request. */
enum sw_match_call {
	SW_CALL_NONE = 0, /**< not a call (REGISTER, OPTIONS, in-dialog ...): no caps */
	SW_CALL_NEW,      /**< an initial INVITE: a full pattern is skipped, the chosen one
			       takes a CPS slot (the caller counts the session when it sends) */
	SW_CALL_PEEK,     /**< a CANCEL or non-2xx ACK matched as its INVITE: full patterns are
			       skipped as for a new call, nothing is counted, and when all are
			       full it goes as if there were no caps (never a 503) */
};

enum sw_route_action {
	SW_ROUTE_NOMATCH = 0, /**< no rule matched: the dataplane's configured answer */
	SW_ROUTE_FORWARD,     /**< send on, edited, to the target or the new R-URI */
	SW_ROUTE_REPLY,       /**< answer status statelessly ($action/$response) */
	SW_ROUTE_BLOCK,       /**< drop and block the source ($action = block) */
	SW_ROUTE_SLOWPATH,    /**< hand to the slow path / companion ($auth) */
};

enum sw_edit_op {
	SW_EDIT_HDR_SET = 0, /**< replace the first header of that name, add when absent */
	SW_EDIT_HDR_DEL,     /**< remove every header of that name */
	SW_EDIT_HDR_ADD,     /**< add one more header */
	SW_EDIT_RURI,        /**< new Request-URI (value only) */
};

#define SW_ROUTE_MAX_EDITS 24
#define SW_ROUTE_MAX_TARGETS 8
#define SW_ROUTE_BUF 4096

/** A piece of text in sw_route_result.buf. */
struct sw_rspan {
	uint16_t off, len;
};

struct sw_edit {
	uint8_t op;          /**< enum sw_edit_op */
	struct sw_rspan name; /**< header name (full form) */
	struct sw_rspan value;
};

/**
 * The decision. Edits are in the order the rules wrote them; a later edit of
 * the same header wins. All text lives in buf, so the result stands alone.
 */
struct sw_route_result {
	uint8_t action;       /**< enum sw_route_action */
	uint8_t nedits;
	uint8_t ntargets;
	uint8_t record_route; /**< 0 default (dataplane decides), 1 yes, 2 no ($recordroute) */
	uint16_t status;      /**< for SW_ROUTE_REPLY */
	struct sw_rspan reason; /**< reason phrase for REPLY, may be empty */
	int32_t rule;         /**< index of the winning (last applied) rule, -1 none */
	struct sw_rspan targets[SW_ROUTE_MAX_TARGETS]; /**< host[:port][;transport=x], failover order */
	struct sw_edit edits[SW_ROUTE_MAX_EDITS];
	uint16_t used;
	int16_t route;          /**< ARS route that was selected, -1 none */
	int16_t gateway;        /**< gateway index (sw_ruleset_gateway), -1 none */
	int32_t max_sessions;   /**< Max Sessions of the selected ARS OUT pattern, -1 unlimited */
	uint32_t ars_id;        /**< call-counting id of the selected pattern when it has Max
				     Sessions (the ";swr=" tag), 0 none */
	int16_t ars_slot;       /**< its counter slot in sw_match_in.ars, -1 none */
	uint8_t ars_skipped;    /**< OUT patterns that held but were skipped at their cap */
	uint8_t ars_busy;       /**< every OUT pattern that held was at its cap: action is
				     SW_ROUTE_REPLY 503 */
	char buf[SW_ROUTE_BUF];
};

/**
 * Match a request against the ruleset and fill the decision.
 * Any worker thread, with its own scratch; no allocation, no locks.
 * @return 0 (out filled; SW_ROUTE_NOMATCH when no rule held), or -ENOSPC when
 *         the result did not fit (treat as an internal error: 500).
 */
int sw_ruleset_match(const struct sw_ruleset *rs, struct sw_rules_scratch *scratch,
		     const struct sw_match_in *in, struct sw_route_result *out);

/**
 * Before a burst of up to 32 sw_ruleset_match() calls with this scratch:
 * the dial plan's trie walks of the messages' Request-URI users, all at
 * once, so that the cache misses of a big trie overlap. msgs[i] may be NULL
 * (not to be matched). A match with in->prepared = i + 1 takes msgs[i]'s
 * walk instead of walking again; the next call forgets them. Any worker
 * thread, with its own scratch; no allocation, no locks.
 */
void sw_ruleset_match_prepare(const struct sw_ruleset *rs, struct sw_rules_scratch *scratch,
			      const struct sw_sip_msg *const *msgs, unsigned n);

/**
 * Explain a match in readable text: winning rule with file:line, captures,
 * the decision, and for each earlier rule why it did not match.
 * Control thread (allocates). Returns a malloc'd string the caller frees.
 */
char *sw_ruleset_explain(const struct sw_ruleset *rs, const struct sw_match_in *in);

/**
 * Same as sw_ruleset_explain but appends to a caller's buffer-less API:
 * returns the explanation of message text (parsed here) from src/port/transport.
 * Control thread. NULL with *err set when the message does not parse.
 */
char *sw_ruleset_explain_text(const struct sw_ruleset *rs, const char *msg, size_t len,
			      const struct sw_addr *src, uint16_t src_port, uint8_t transport,
			      bool src_is_local, int64_t now, const char **err);

/** Hits per rule (carried ones included); idx < info.rules. */
uint64_t sw_ruleset_rule_hits(const struct sw_ruleset *rs, unsigned idx);

/**
 * Carry hit counters from an old ruleset to its successor: a rule whose text
 * did not change (same name, conditions and deploy lines, in order) starts
 * from the old rule's count. Control thread, after the grace period that
 * retired `from` (its counts are final then). 0, or -ENOMEM.
 */
int sw_ruleset_carry_hits(struct sw_ruleset *to, const struct sw_ruleset *from);

/** Name, file and line of rule idx (for stats); NULL when out of range. */
const char *sw_ruleset_rule_name(const struct sw_ruleset *rs, unsigned idx, const char **file,
				 unsigned *line);

/** Name of ARS route idx (for stats and explain), NULL when out of range. */
const char *sw_ruleset_route_name(const struct sw_ruleset *rs, unsigned idx);

/* ------------------------------------------------------------------------ */
/* ARS call counters (Max Sessions, CPS), kept across reloads               */
/* ------------------------------------------------------------------------ */

/**
 * Counters of the capped ARS OUT patterns (Max Sessions >= 0 or CPS > 0),
 * one slot each, named by a stable id: a hash of the route's name and the
 * pattern's ordinal among that route's OUT patterns. A reload that keeps
 * a route's name and its OUT patterns' order keeps their counts.
 *
 * Sessions are counted per worker (each worker writes only its own row,
 * cache-line aligned) and summed with relaxed loads: exact within one
 * worker, approximate across workers. CPS is one shared per-second word per
 * slot moved by compare-and-swap. Nothing here locks on a worker.
 */
struct sw_ars_state;

/** Most slots a state can have. */
#define SW_ARS_MAX_SLOTS 65536
/** Slots sipwarp allocates (capped patterns in one ARS file). */
#define SW_ARS_SLOTS 1024

/** Create the counters for nb_workers workers. NULL on ENOMEM or bad sizes. Control thread. */
struct sw_ars_state *sw_ars_state_create(unsigned nb_workers, unsigned nb_slots);
/** Free them (workers stopped). NULL is fine. */
void sw_ars_state_free(struct sw_ars_state *st);

/**
 * Give each capped pattern of rs its slot: the slot its id had, else a free
 * one (a pattern no longer in the published ruleset gives its slot up one
 * reload later, its counts reset). Control thread, serialized with reloads,
 * after sw_ruleset_compile() and right before rs is published.
 * @return 0; -ENOSPC (with an error in *diag) when slots run out: then rs
 *         has no slots and must not be published.
 */
int sw_ars_state_bind(struct sw_ars_state *st, struct sw_ruleset *rs, struct sw_diag *diag);

/** Slot of the pattern with call-counting id in rs, -1 when rs has none. Any thread. */
int sw_ruleset_sess_slot(const struct sw_ruleset *rs, uint32_t id);

/** Calls up on slot (sum over workers, never below 0). Any thread. */
int64_t sw_ars_sessions(const struct sw_ars_state *st, int slot);
/** +1 on slot, in worker's own row. That worker only. */
void sw_ars_sess_inc(struct sw_ars_state *st, unsigned worker, int slot);
/** -1 on slot in worker's row, unless the count is already 0 (then false). That worker only. */
bool sw_ars_sess_dec(struct sw_ars_state *st, unsigned worker, int slot);

/** One slot, for ars.sessions. */
struct sw_ars_slot_info {
	char route[64];
	unsigned pattern;   /**< ordinal of the OUT pattern in its route, from 1 */
	unsigned slot;
	uint32_t id;        /**< the ";swr=" tag */
	int max_sessions;   /**< -1 unlimited */
	int cps;            /**< 0 no cap */
	int64_t sessions;
	uint32_t cps_now;   /**< calls counted in the current second */
	bool live;          /**< bound by the published ruleset (else: removed, kept until reused) */
};
/** Up to max slots in use into out; returns how many. Control thread. */
unsigned sw_ars_state_list(struct sw_ars_state *st, int64_t now, struct sw_ars_slot_info *out,
			   unsigned max);
/**
 * Set session counts back to zero: every slot, those of route (NULL: all),
 * and of its OUT pattern number pattern (<= 0: all). Returns slots reset.
 * Control thread; a call counted meanwhile on a worker may be lost.
 */
int sw_ars_state_reset(struct sw_ars_state *st, const char *route, int pattern);

/** Check once at startup that Hyperscan runs on this CPU (hs_valid_platform). */
int sw_rules_platform_ok(void);

#ifdef __cplusplus
}
#endif

#endif /* SW_RULESET_H */
