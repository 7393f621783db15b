/* TCP header and options: malformed headers (short, data offset < 5 or past
 * the buffer), malformed option lists (length 0, 1, 255, overlong, missing
 * length byte) are errors and never loop; unknown options are skipped; EOL
 * ends the list; known options with the wrong length are ignored; every
 * combination of options emits in Linux's layout, is 4-byte aligned, has the
 * length ust_tcp_opts_len announces and parses back to the same values (SACK
 * blocks trimmed to what fits); checksums computed by ust_tcp_set_csum verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/util.h"
#include "wire/wire.h"

/* A 20-byte header (ports 1234 -> 80, seq 1, ack 2, ACK, win 1000) followed
 * by `optlen` option bytes; data offset covers them (optlen % 4 == 0). */
static size_t make_seg(uint8_t *p, const uint8_t *opt, size_t optlen)
{
    memset(p, 0, 20);
    ust_put_be16(p, 1234);
    ust_put_be16(p + 2, 80);
    ust_put_be32(p + 4, 1);
    ust_put_be32(p + 8, 2);
    p[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    p[13] = UST_TCP_ACK;
    ust_put_be16(p + 14, 1000);
    if (optlen)
        memcpy(p + 20, opt, optlen);
    return 20 + optlen;
}

/* Parses a segment whose options are `opt`; returns the parser's result. */
static int parse_opts(const uint8_t *opt, size_t optlen, struct ust_tcp_hdr *h)
{
    uint8_t seg[60];
    size_t n = make_seg(seg, opt, optlen);
    /* Exactly sized heap copy, so ASan catches any read past the header. */
    uint8_t *copy = malloc(n);
    memcpy(copy, seg, n);
    int r = ust_tcp_parse(copy, n, h);
    free(copy);
    return r;
}

/* ---- header ------------------------------------------------------------- */

static void test_header_fields_parse_in_host_order(void **state)
{
    (void)state;
    const uint8_t seg[20] = {0xd4, 0x31, 0x00, 0x50, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x02, 0x03, 0x04,
                             0x50, 0xff, 0xfa, 0xf0, 0x12, 0x34, 0x56, 0x78};
    struct ust_tcp_hdr h;
    assert_int_equal(ust_tcp_parse(seg, sizeof(seg), &h), 20);
    assert_int_equal(h.sport, 0xd431);
    assert_int_equal(h.dport, 80);
    assert_int_equal(h.seq, 0x89abcdefu);
    assert_int_equal(h.ack, 0x01020304u);
    assert_int_equal(h.hlen, 20);
    assert_int_equal(h.flags, 0xff);  /* FIN..CWR: all eight */
    assert_int_equal(h.win, 0xfaf0);
    assert_int_equal(h.csum, 0x1234);
    assert_int_equal(h.urg, 0x5678);
    assert_int_equal(h.opts.present, 0);
}

static void test_header_too_short_is_truncated(void **state)
{
    (void)state;
    uint8_t seg[60];
    struct ust_tcp_hdr h;
    make_seg(seg, NULL, 0);
    for (size_t len = 0; len < 20; len++) {
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, seg, len);
        assert_int_equal(ust_tcp_parse(cut, len, &h), UST_WIRE_TRUNCATED);
        free(cut);
    }
}

static void test_data_offset_below_five_is_bad_length(void **state)
{
    (void)state;
    uint8_t seg[60];
    struct ust_tcp_hdr h;
    make_seg(seg, NULL, 0);
    for (uint8_t doff = 0; doff < 5; doff++) {
        seg[12] = (uint8_t)(doff << 4);
        assert_int_equal(ust_tcp_parse(seg, sizeof(seg), &h), UST_WIRE_BAD_LENGTH);
    }
}

static void test_data_offset_past_buffer_is_truncated(void **state)
{
    (void)state;
    uint8_t seg[60];
    struct ust_tcp_hdr h;
    memset(seg, UST_TCPOPT_NOP, sizeof(seg));
    make_seg(seg, NULL, 0);
    seg[12] = 15 << 4;  /* 60 bytes of header */
    for (size_t len = 20; len < 60; len++)
        assert_int_equal(ust_tcp_parse(seg, len, &h), UST_WIRE_TRUNCATED);
    assert_int_equal(ust_tcp_parse(seg, 60, &h), 60);  /* 40 NOPs are fine */
    assert_int_equal(h.opts.present, 0);
}

/* ---- malformed option lists ---------------------------------------------- */

static void test_option_length_zero_or_one_is_bad_option(void **state)
{
    (void)state;
    struct ust_tcp_hdr h;
    const uint8_t len0[4] = {UST_TCPOPT_MSS, 0, 0x05, 0xb4};
    const uint8_t len1[4] = {UST_TCPOPT_MSS, 1, 0x05, 0xb4};
    const uint8_t unk0[4] = {99, 0, 1, 1};
    const uint8_t unk1[8] = {1, 1, 1, 1, 77, 1, 0, 0};
    assert_int_equal(parse_opts(len0, 4, &h), UST_WIRE_BAD_OPTION);
    assert_int_equal(parse_opts(len1, 4, &h), UST_WIRE_BAD_OPTION);
    assert_int_equal(parse_opts(unk0, 4, &h), UST_WIRE_BAD_OPTION);
    assert_int_equal(parse_opts(unk1, 8, &h), UST_WIRE_BAD_OPTION);
}

static void test_option_running_past_header_is_bad_option(void **state)
{
    (void)state;
    struct ust_tcp_hdr h;
    const uint8_t len255[4] = {UST_TCPOPT_TIMESTAMP, 255, 0, 0};
    const uint8_t overlong[8] = {UST_TCPOPT_MSS, 4, 0x05, 0xb4, UST_TCPOPT_TIMESTAMP, 10, 0, 0};
    const uint8_t just_over[4] = {UST_TCPOPT_NOP, 30, 4, 0};         /* unknown, 4 > 3 left */
    const uint8_t no_len_byte[4] = {UST_TCPOPT_NOP, UST_TCPOPT_NOP, UST_TCPOPT_NOP, UST_TCPOPT_MSS};
    assert_int_equal(parse_opts(len255, 4, &h), UST_WIRE_BAD_OPTION);
    assert_int_equal(parse_opts(overlong, 8, &h), UST_WIRE_BAD_OPTION);
    assert_int_equal(parse_opts(just_over, 4, &h), UST_WIRE_BAD_OPTION);
    assert_int_equal(parse_opts(no_len_byte, 4, &h), UST_WIRE_BAD_OPTION);
    /* An option that ends exactly at the header's end is fine. */
    const uint8_t exact[4] = {30, 4, 0xaa, 0xbb};
    assert_int_equal(parse_opts(exact, 4, &h), 24);
}

/* Every 4-byte option area and every 8-byte area from a set of interesting
 * bytes: the parser always returns (no loop), and either succeeds or says
 * BAD_OPTION; it never reads past the header (ASan). */
static void test_every_small_option_area_terminates(void **state)
{
    (void)state;
    const uint8_t vals[] = {0, 1, 2, 3, 4, 5, 8, 10, 0x22, 0xfe, 0xff};
    const size_t nv = UST_ARRAY_SIZE(vals);
    struct ust_tcp_hdr h;
    uint8_t opt[8];
    size_t ok = 0, bad = 0;
    for (size_t a = 0; a < nv; a++)
        for (size_t b = 0; b < nv; b++)
            for (size_t c = 0; c < nv; c++)
                for (size_t d = 0; d < nv; d++) {
                    opt[0] = vals[a], opt[1] = vals[b], opt[2] = vals[c], opt[3] = vals[d];
                    int r = parse_opts(opt, 4, &h);
                    assert_true(r == 24 || r == UST_WIRE_BAD_OPTION);
                    r == 24 ? ok++ : bad++;
                    memcpy(opt + 4, opt, 4);
                    opt[0] = UST_TCPOPT_NOP;
                    r = parse_opts(opt, 8, &h);
                    assert_true(r == 28 || r == UST_WIRE_BAD_OPTION);
                }
    assert_true(ok > 0 && bad > 0);
}

/* ---- option semantics --------------------------------------------------- */

static void test_unknown_options_are_skipped_by_length(void **state)
{
    (void)state;
    struct ust_tcp_hdr h;
    /* MPTCP (30) with 6 bytes, TFO cookie (34) len 2, experimental 254 len 4,
     * then MSS 1400 and window scale 7. */
    const uint8_t opt[20] = {30, 6, 0x11, 0x22, 0x33, 0x44, 34, 2, 254, 4, 0xf9, 0x89,
                             UST_TCPOPT_MSS, 4, 0x05, 0x78, UST_TCPOPT_NOP, UST_TCPOPT_WSCALE, 3, 7};
    assert_int_equal(parse_opts(opt, sizeof(opt), &h), 40);
    assert_int_equal(h.opts.present, UST_TCPO_MSS | UST_TCPO_WSCALE);
    assert_int_equal(h.opts.mss, 1400);
    assert_int_equal(h.opts.wscale, 7);
}

static void test_eol_ends_the_list(void **state)
{
    (void)state;
    struct ust_tcp_hdr h;
    /* After EOL anything goes, even bytes that would be malformed options. */
    const uint8_t opt[12] = {UST_TCPOPT_MSS, 4, 0x05, 0xb4, UST_TCPOPT_EOL, 0, 1, 255,
                             UST_TCPOPT_WSCALE, 3, 9, 0};
    assert_int_equal(parse_opts(opt, sizeof(opt), &h), 32);
    assert_int_equal(h.opts.present, UST_TCPO_MSS);
    assert_int_equal(h.opts.mss, 1460);
    const uint8_t first[4] = {UST_TCPOPT_EOL, UST_TCPOPT_MSS, 4, 0};
    assert_int_equal(parse_opts(first, 4, &h), 24);
    assert_int_equal(h.opts.present, 0);
}

static void test_known_option_with_wrong_length_is_ignored(void **state)
{
    (void)state;
    struct ust_tcp_hdr h;
    /* MSS len 3, WS len 4, SACK-perm len 3, TS len 8, SACK len 2, SACK len 9,
     * SACK len 11 (not 2 + 8n), then a valid timestamp that must still count. */
    const uint8_t opt[40] = {
        UST_TCPOPT_MSS, 3, 0x05,
        UST_TCPOPT_WSCALE, 4, 7, 0,
        UST_TCPOPT_SACK_PERM, 3, 0,
        UST_TCPOPT_TIMESTAMP, 8, 1, 2, 3, 4, 5, 6,
        UST_TCPOPT_SACK, 2,
        UST_TCPOPT_NOP, UST_TCPOPT_NOP,
        UST_TCPOPT_TIMESTAMP, 10, 0, 0, 0, 7, 0, 0, 0, 9,
        UST_TCPOPT_SACK, 3, 0xff,
        UST_TCPOPT_NOP, UST_TCPOPT_NOP, UST_TCPOPT_NOP, UST_TCPOPT_NOP, UST_TCPOPT_NOP,
    };
    assert_int_equal(parse_opts(opt, sizeof(opt), &h), 60);
    assert_int_equal(h.opts.present, UST_TCPO_TIMESTAMP);
    assert_int_equal(h.opts.tsval, 7);
    assert_int_equal(h.opts.tsecr, 9);
    assert_int_equal(h.opts.mss, 0);
    assert_int_equal(h.opts.nsack, 0);

    const uint8_t sack9[12] = {UST_TCPOPT_SACK, 9, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1};
    assert_int_equal(parse_opts(sack9, sizeof(sack9), &h), 32);
    assert_int_equal(h.opts.present, 0);
    const uint8_t sack11[12] = {UST_TCPOPT_SACK, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0};
    assert_int_equal(parse_opts(sack11, sizeof(sack11), &h), 32);
    assert_int_equal(h.opts.present, 0);
}

static void test_four_sack_blocks_and_raw_wscale(void **state)
{
    (void)state;
    struct ust_tcp_hdr h;
    uint8_t opt[40] = {UST_TCPOPT_NOP, UST_TCPOPT_NOP, UST_TCPOPT_SACK, 34};
    for (int i = 0; i < 8; i++)
        ust_put_be32(opt + 4 + 4 * i, 0x10000000u * (uint32_t)(i + 1) + 5);
    assert_int_equal(parse_opts(opt, 36, &h), 56);
    assert_int_equal(h.opts.present, UST_TCPO_SACK);
    assert_int_equal(h.opts.nsack, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(h.opts.sack[i].left, 0x10000000u * (uint32_t)(2 * i + 1) + 5);
        assert_int_equal(h.opts.sack[i].right, 0x10000000u * (uint32_t)(2 * i + 2) + 5);
    }
    /* Re-emitted identically (36 bytes: 4 blocks fit when alone). */
    uint8_t out[60];
    assert_int_equal(ust_tcp_sack_room(&h.opts), 4);
    assert_int_equal(ust_tcp_emit(out, sizeof(out), &h), 56);
    assert_memory_equal(out + 20, opt, 36);

    /* Window scale is reported as received; clamping to 14 is TCP's job. */
    const uint8_t ws[4] = {UST_TCPOPT_NOP, UST_TCPOPT_WSCALE, 3, 200};
    assert_int_equal(parse_opts(ws, 4, &h), 24);
    assert_int_equal(h.opts.wscale, 200);
}

/* ---- emitting ---------------------------------------------------------- */

static size_t emit_opts(const struct ust_tcp_opts *o, uint8_t *out)
{
    struct ust_tcp_hdr h = {.sport = 1, .dport = 2, .flags = UST_TCP_SYN, .opts = *o};
    uint8_t seg[60];
    size_t n = ust_tcp_emit(seg, sizeof(seg), &h);
    assert_int_equal(n, 20 + ust_tcp_opts_len(o));
    memcpy(out, seg + 20, n - 20);
    return n - 20;
}

static void test_emit_layouts_match_linux(void **state)
{
    (void)state;
    uint8_t out[40];
    struct ust_tcp_opts o = {.mss = 1460, .wscale = 7, .tsval = 0x01020304, .tsecr = 0x05060708};

    /* Linux SYN: mss,sackOK,TS,nop,wscale */
    o.present = UST_TCPO_MSS | UST_TCPO_SACK_PERM | UST_TCPO_TIMESTAMP | UST_TCPO_WSCALE;
    const uint8_t full[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 7};
    assert_int_equal(emit_opts(&o, out), 20);
    assert_memory_equal(out, full, 20);

    /* Without timestamps: mss,nop,nop,sackOK,nop,wscale */
    o.present = UST_TCPO_MSS | UST_TCPO_SACK_PERM | UST_TCPO_WSCALE;
    const uint8_t nots[12] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};
    assert_int_equal(emit_opts(&o, out), 12);
    assert_memory_equal(out, nots, 12);

    /* Without SACK: mss,nop,nop,TS,nop,wscale */
    o.present = UST_TCPO_MSS | UST_TCPO_TIMESTAMP | UST_TCPO_WSCALE;
    const uint8_t nosack[20] = {2, 4, 0x05, 0xb4, 1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 7};
    assert_int_equal(emit_opts(&o, out), 20);
    assert_memory_equal(out, nosack, 20);

    /* MSS only, and nothing at all. */
    o.present = UST_TCPO_MSS;
    assert_int_equal(emit_opts(&o, out), 4);
    assert_memory_equal(out, full, 4);
    o.present = 0;
    assert_int_equal(emit_opts(&o, out), 0);

    /* Established with timestamps and 3 SACK blocks: exactly 40 bytes. */
    o.present = UST_TCPO_TIMESTAMP | UST_TCPO_SACK;
    o.nsack = 3;
    for (int i = 0; i < 3; i++)
        o.sack[i] = (struct ust_tcp_sack_block){100u * (uint32_t)i + 10, 100u * (uint32_t)i + 20};
    assert_int_equal(emit_opts(&o, out), 40);
    const uint8_t head[16] = {1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 5, 26};
    assert_memory_equal(out, head, 16);
    assert_int_equal(ust_get_be32(out + 16), 10);
    assert_int_equal(ust_get_be32(out + 36), 220);
}

static void test_sack_blocks_trimmed_to_room(void **state)
{
    (void)state;
    struct ust_tcp_opts o = {.present = UST_TCPO_SACK, .nsack = 4};
    assert_int_equal(ust_tcp_sack_room(&o), 4);
    assert_int_equal(ust_tcp_opts_len(&o), 36);
    o.present |= UST_TCPO_TIMESTAMP;
    assert_int_equal(ust_tcp_sack_room(&o), 3);  /* Linux's limit with timestamps */
    assert_int_equal(ust_tcp_opts_len(&o), 40);
    o.present |= UST_TCPO_MSS | UST_TCPO_WSCALE | UST_TCPO_SACK_PERM;
    assert_int_equal(ust_tcp_sack_room(&o), 2);
    assert_int_equal(ust_tcp_opts_len(&o), 40);
    o.nsack = 0;  /* SACK flag with no blocks: no option at all */
    assert_int_equal(ust_tcp_opts_len(&o), 20);
}

static bool opts_equal(const struct ust_tcp_opts *a, const struct ust_tcp_opts *b)
{
    if (a->present != b->present || a->mss != b->mss || a->wscale != b->wscale ||
        a->tsval != b->tsval || a->tsecr != b->tsecr || a->nsack != b->nsack)
        return false;
    for (unsigned i = 0; i < a->nsack; i++)
        if (a->sack[i].left != b->sack[i].left || a->sack[i].right != b->sack[i].right)
            return false;
    return true;
}

static void test_every_option_combination_round_trips(void **state)
{
    (void)state;
    for (unsigned present = 0; present < 32; present++) {
        for (unsigned nsack = 0; nsack <= UST_TCP_MAX_SACK; nsack++) {
            struct ust_tcp_hdr h = {.sport = 40000, .dport = 443, .seq = 0xfffffff0u,
                                    .ack = 7, .flags = UST_TCP_ACK | UST_TCP_ECE | UST_TCP_CWR,
                                    .win = 512, .urg = 3};
            struct ust_tcp_opts *o = &h.opts;
            o->present = (uint8_t)present;
            o->mss = 1200;
            o->wscale = 14;
            o->tsval = 0xdeadbeef;
            o->tsecr = 0xfeedface;
            o->nsack = (uint8_t)nsack;
            for (unsigned i = 0; i < nsack; i++)
                o->sack[i] = (struct ust_tcp_sack_block){1000 * i + 1, 1000 * i + 500};

            uint8_t seg[61];
            memset(seg, 0xee, sizeof(seg));
            size_t hlen = ust_tcp_emit(seg, sizeof(seg), &h);
            assert_int_equal(hlen, 20 + ust_tcp_opts_len(o));
            assert_true(hlen % 4 == 0 && hlen <= 60);
            assert_int_equal(seg[hlen], 0xee);           /* nothing written past hlen */
            assert_int_equal(ust_tcp_emit(seg, hlen - 1, &h), 0);

            struct ust_tcp_hdr back;
            assert_int_equal(ust_tcp_parse(seg, hlen, &back), (int)hlen);
            assert_int_equal(back.sport, 40000);
            assert_int_equal(back.seq, 0xfffffff0u);
            assert_int_equal(back.flags, h.flags);
            assert_int_equal(back.urg, 3);
            assert_int_equal(back.csum, 0);              /* the caller sets it later */

            /* What we expect to read back: unused fields zero, SACK trimmed. */
            struct ust_tcp_opts want = {.present = o->present};
            if (present & UST_TCPO_MSS)
                want.mss = o->mss;
            if (present & UST_TCPO_WSCALE)
                want.wscale = o->wscale;
            if (present & UST_TCPO_TIMESTAMP)
                want.tsval = o->tsval, want.tsecr = o->tsecr;
            want.nsack = (present & UST_TCPO_SACK) ? (uint8_t)UST_MIN(nsack, ust_tcp_sack_room(o)) : 0;
            if (want.nsack == 0)
                want.present &= (uint8_t)~UST_TCPO_SACK;
            memcpy(want.sack, o->sack, sizeof(want.sack));
            assert_true(opts_equal(&back.opts, &want));
        }
    }
}

static void test_set_csum_verifies_and_detects_corruption(void **state)
{
    (void)state;
    const uint32_t src = 0xc0a80001, dst = 0xc0a80002;
    struct ust_tcp_hdr h = {.sport = 5, .dport = 6, .seq = 1, .flags = UST_TCP_PSH | UST_TCP_ACK,
                            .win = 100, .opts = {.present = UST_TCPO_TIMESTAMP, .tsval = 1}};
    uint8_t seg[100];
    size_t hlen = ust_tcp_emit(seg, sizeof(seg), &h);
    assert_int_equal(hlen, 32);
    for (size_t plen = 0; plen <= 7; plen++) {  /* odd and even payloads */
        for (size_t i = 0; i < plen; i++)
            seg[hlen + i] = (uint8_t)(0x41 + i);
        ust_tcp_set_csum(seg, hlen + plen, src, dst);
        assert_true(ust_tcp_csum_ok(seg, hlen + plen, src, dst));
        assert_false(ust_tcp_csum_ok(seg, hlen + plen, src, dst ^ 0x100));
        seg[hlen - 1] ^= 0x80;
        assert_false(ust_tcp_csum_ok(seg, hlen + plen, src, dst));
        seg[hlen - 1] ^= 0x80;
    }
    assert_false(ust_tcp_csum_ok(seg, 19, src, dst));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_fields_parse_in_host_order),
        cmocka_unit_test(test_header_too_short_is_truncated),
        cmocka_unit_test(test_data_offset_below_five_is_bad_length),
        cmocka_unit_test(test_data_offset_past_buffer_is_truncated),
        cmocka_unit_test(test_option_length_zero_or_one_is_bad_option),
        cmocka_unit_test(test_option_running_past_header_is_bad_option),
        cmocka_unit_test(test_every_small_option_area_terminates),
        cmocka_unit_test(test_unknown_options_are_skipped_by_length),
        cmocka_unit_test(test_eol_ends_the_list),
        cmocka_unit_test(test_known_option_with_wrong_length_is_ignored),
        cmocka_unit_test(test_four_sack_blocks_and_raw_wscale),
        cmocka_unit_test(test_emit_layouts_match_linux),
        cmocka_unit_test(test_sack_blocks_trimmed_to_room),
        cmocka_unit_test(test_every_option_combination_round_trips),
        cmocka_unit_test(test_set_csum_verifies_and_detects_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
