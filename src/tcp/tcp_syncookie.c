/* SYN cookies (RFC 4987 section 3.6), as Linux builds them: when the SYN
 * queue is full, the SYN-ACK's ISN encodes what the connection needs and
 * no state is kept; the peer's ACK (ISN + 1) proves the handshake and
 * recreates the connection.
 *
 *   ISN = H1(4-tuple) + peer's ISN + (minute << 24)
 *         + ((H2(4-tuple, minute) + MSS index) mod 2^24)
 *
 * A cookie is good for two minutes. The MSS is one of four values. With
 * timestamps, the low 6 bits of our SYN-ACK's TSval carry the window scale
 * (4 bits, 0xf = none) and SACK-permitted (1 bit); the peer echoes them in
 * TSecr. Without timestamps, neither option survives (as in Linux). */
#include "core/util.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"

#define COOKIE_BITS 24
#define COOKIE_MASK ((1u << COOKIE_BITS) - 1)
#define COOKIE_MAX_AGE 2u           /* minutes */
#define TS_OPT_BITS 6
#define TS_OPT_MASK ((1u << TS_OPT_BITS) - 1)
#define TS_NO_WSCALE 0xfu
#define TS_SACK 0x10u

/* Linux msstab. */
static const uint16_t msstab[] = { 536, 1300, 1440, 1460 };

static uint32_t minute(const struct ust_stack *stack)
{
    return (uint32_t)(stack->now / (60 * UST_NSEC_PER_SEC));
}

static uint32_t h(const struct ust_stack *stack, uint32_t laddr, uint16_t lport, uint32_t raddr,
                  uint16_t rport, uint32_t salt)
{
    return ust_hash_u32x3(stack->hash_key, laddr ^ salt, raddr + salt * 0x9e3779b9u,
                          ((uint32_t)lport << 16 | rport) ^ (salt << 3));
}

uint32_t ust_tcp_cookie_make(struct ust_stack *stack, uint32_t laddr, uint16_t lport,
                             uint32_t raddr, uint16_t rport, uint32_t peer_isn, uint16_t mss,
                             uint16_t *mss_out)
{
    unsigned idx = 0;
    for (unsigned i = 0; i < sizeof(msstab) / sizeof(msstab[0]); i++)
        if (msstab[i] <= mss)
            idx = i;
    *mss_out = msstab[idx];
    uint32_t m = minute(stack);
    return h(stack, laddr, lport, raddr, rport, 1) + peer_isn + (m << COOKIE_BITS) +
           ((h(stack, laddr, lport, raddr, rport, 2 + m) + idx) & COOKIE_MASK);
}

bool ust_tcp_cookie_check(struct ust_stack *stack, uint32_t laddr, uint16_t lport,
                          uint32_t raddr, uint16_t rport, uint32_t peer_isn, uint32_t cookie,
                          uint16_t *mss)
{
    uint32_t v = cookie - h(stack, laddr, lport, raddr, rport, 1) - peer_isn;
    uint32_t m = minute(stack);
    uint32_t cm = v >> COOKIE_BITS;
    if (((m - cm) & 0xffu) > COOKIE_MAX_AGE)
        return false;
    /* The minute counter kept only 8 bits: rebuild the full value. */
    uint32_t full = m - ((m - cm) & 0xffu);
    uint32_t idx = (v - h(stack, laddr, lport, raddr, rport, 2 + full)) & COOKIE_MASK;
    if (idx >= sizeof(msstab) / sizeof(msstab[0]))
        return false;
    *mss = msstab[idx];
    return true;
}

uint32_t ust_tcp_cookie_ts_offset(uint32_t now_ts, uint32_t offset, uint8_t wscale, bool wscale_ok,
                                  bool sack_ok)
{
    uint32_t opts = (wscale_ok ? (wscale & 0xfu) : TS_NO_WSCALE) | (sack_ok ? TS_SACK : 0);
    uint32_t ts = (now_ts & ~TS_OPT_MASK) | opts;
    if (ust_seq_gt(ts, now_ts))
        ts -= 1u << TS_OPT_BITS;    /* never ahead of the clock the child will use */
    return offset + (ts - now_ts);
}

void ust_tcp_cookie_ts_decode(uint32_t tsecr, uint8_t *wscale, bool *wscale_ok, bool *sack_ok)
{
    uint32_t ws = tsecr & 0xfu;
    *wscale_ok = ws != TS_NO_WSCALE;
    *wscale = (uint8_t)(*wscale_ok ? (ws > 14 ? 14 : ws) : 0);
    *sack_ok = (tsecr & TS_SACK) != 0;
}

uint32_t ust_tcp_ts_offset(struct ust_stack *stack, uint32_t laddr, uint16_t lport,
                           uint32_t raddr, uint16_t rport)
{
    return h(stack, laddr, lport, raddr, rport, 0x7507);
}
