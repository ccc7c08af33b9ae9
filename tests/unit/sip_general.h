/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to tests/unit: forced into every source of the second SIP library
 * (sw_sip_general, built with -DSW_SIP_GENERAL_ONLY: no fast paths), so its
 * globals are swg_* and it links beside the real one in test_sip_fastpath.
 */
#define sw_sip_cc swg_sip_cc
#define sw_sip_drop_name swg_sip_drop_name
#define sw_sip_h16 swg_sip_h16
#define sw_sip_hdr_find swg_sip_hdr_find
#define sw_sip_hdr_next swg_sip_hdr_next
#define sw_sip_hname_type swg_sip_hname_type
#define sw_sip_host_scan_full swg_sip_host_scan_full
#define sw_sip_keep swg_sip_keep
#define sw_sip_nameaddr_at swg_sip_nameaddr_at
#define sw_sip_nameaddr_next swg_sip_nameaddr_next
#define sw_sip_nameaddr_parse swg_sip_nameaddr_parse
#define sw_sip_nib swg_sip_nib
#define sw_sip_param_find swg_sip_param_find
#define sw_sip_params_scan swg_sip_params_scan
#define sw_sip_parse swg_sip_parse
#define sw_sip_parse_more swg_sip_parse_more
#define sw_sip_quad swg_sip_quad
#define sw_sip_quoted_end swg_sip_quoted_end
#define sw_sip_uri_parse swg_sip_uri_parse
#define sw_sip_uri_parse_lim swg_sip_uri_parse_lim
#define sw_span_ieq swg_span_ieq
