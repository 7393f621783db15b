/* Socket options (SOL_SOCKET and IPPROTO_IP), with Linux's rules:
 * sk_setsockopt wants at least an int (EINVAL), buffer sizes are doubled and
 * capped by rmem_max/wmem_max with a floor, timeouts are struct timeval (EDOM
 * for a bad tv_usec, a negative time means "don't wait"), SO_ERROR reads and
 * clears, unknown options give ENOPROTOOPT. getsockopt copies at most the
 * caller's length and reports the length copied. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/time.h>

#include "core/util.h"
#include "fd/fd.h"
#include "net/sk.h"
#include "sock/sock.h"
#include "stack/stack_impl.h"

/* ---- Values ----------------------------------------------------------- */

/* Linux __sock_set_rcvbuf / sndbuf: doubled (for bookkeeping overhead),
 * capped, floored. val is taken as unsigned, so a negative one hits the cap. */
static unsigned buf_size(int val, unsigned cap, unsigned floor)
{
    unsigned v = (unsigned)val;
    if (v > cap)
        v = cap;
    if (v > INT_MAX / 2)
        v = INT_MAX / 2;
    v *= 2;
    return v < floor ? floor : v;
}

/* Linux sock_set_timeout. */
static int timeout_set(uint64_t *timeo, const void *optval, socklen_t optlen)
{
    struct timeval tv;
    if (optlen < sizeof(tv))
        return -EINVAL;
    memcpy(&tv, optval, sizeof(tv));
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
        return -EDOM;
    if (tv.tv_sec < 0) {
        *timeo = 0;     /* "return at once" */
        return 0;
    }
    *timeo = UST_TIMEO_FOREVER;
    if (tv.tv_sec == 0 && tv.tv_usec == 0)
        return 0;
    if ((uint64_t)tv.tv_sec < UINT64_MAX / UST_NSEC_PER_SEC - 1)
        *timeo = (uint64_t)tv.tv_sec * UST_NSEC_PER_SEC + (uint64_t)tv.tv_usec * 1000u;
    return 0;
}

static struct timeval timeout_get(uint64_t timeo)
{
    struct timeval tv = { 0, 0 };
    if (timeo != UST_TIMEO_FOREVER) {
        tv.tv_sec = (time_t)(timeo / UST_NSEC_PER_SEC);
        tv.tv_usec = (suseconds_t)((timeo % UST_NSEC_PER_SEC) / 1000u);
    }
    return tv;
}

/* ---- setsockopt ------------------------------------------------------- */

static bool is_rcvtimeo(int optname)
{
#ifdef SO_RCVTIMEO_NEW
    if (optname == SO_RCVTIMEO_NEW)
        return true;
#endif
    return optname == SO_RCVTIMEO;
}

static bool is_sndtimeo(int optname)
{
#ifdef SO_SNDTIMEO_NEW
    if (optname == SO_SNDTIMEO_NEW)
        return true;
#endif
    return optname == SO_SNDTIMEO;
}

static int sol_socket_set(struct ust_socket *so, int optname, const void *optval,
                          socklen_t optlen)
{
    struct ust_sk *sk = so->sk;
    const struct ust_stack_config *cfg = &sk->stack->cfg;
    int val;
    if (optlen < sizeof(int))
        return -EINVAL;
    memcpy(&val, optval, sizeof(val));

    if (is_rcvtimeo(optname))
        return timeout_set(&so->file->rcvtimeo_ns, optval, optlen);
    if (is_sndtimeo(optname))
        return timeout_set(&so->file->sndtimeo_ns, optval, optlen);
    switch (optname) {
    case SO_LINGER:
        if (sk->protocol != IPPROTO_TCP)
            return -ENOPROTOOPT;
        return ust_stream_set_linger(so, optval, optlen);
    case SO_RCVLOWAT:
        if (sk->protocol != IPPROTO_TCP)
            return -ENOPROTOOPT;    /* kept only for stream sockets */
        return ust_stream_set_rcvlowat(so, val);
    case SO_SNDLOWAT:       /* socket(7): not changeable on Linux */
        return -ENOPROTOOPT;
    case SO_REUSEADDR:
        sk->reuseaddr = val != 0;
        return 0;
    case SO_BROADCAST:
        sk->broadcast = val != 0;
        return 0;
    case SO_REUSEPORT:      /* takes effect at bind (udp.c, tcp_pcb.c) */
        sk->reuseport = val != 0;
        return 0;
    case SO_OOBINLINE:      /* TCP's urgent byte stays in the stream */
        sk->oobinline = val != 0;
        return 0;
    case SO_KEEPALIVE:
        sk->keepalive = val != 0;
        if (sk->protocol == IPPROTO_TCP)
            ust_stream_keepalive_changed(so);
        return 0;
    case SO_RCVBUF:
        sk->rcvbuf = buf_size(val, cfg->rmem_max, UST_SOCK_MIN_RCVBUF);
        return 0;
    case SO_SNDBUF:
        sk->sndbuf = buf_size(val, cfg->wmem_max, UST_SOCK_MIN_SNDBUF);
        return 0;
    case SO_RCVBUFFORCE:    /* CAP_NET_ADMIN in Linux; no privileges here */
        sk->rcvbuf = buf_size(val < 0 ? 0 : val, INT_MAX, UST_SOCK_MIN_RCVBUF);
        return 0;
    case SO_SNDBUFFORCE:
        sk->sndbuf = buf_size(val < 0 ? 0 : val, INT_MAX, UST_SOCK_MIN_SNDBUF);
        return 0;
    default:
        /* SO_TYPE, SO_ERROR, SO_PROTOCOL... are read-only; the rest is
         * not implemented. */
        return -ENOPROTOOPT;
    }
}

/* Linux do_ip_setsockopt reads an int, or a single byte when optlen < 4. */
static int ip_set(struct ust_socket *so, int optname, const void *optval, socklen_t optlen)
{
    struct ust_sk *sk = so->sk;
    int val = 0;
    if (optlen >= sizeof(int))
        memcpy(&val, optval, sizeof(val));
    else if (optlen >= 1)
        val = *(const unsigned char *)optval;
    switch (optname) {
    case IP_TTL:
        if (optlen < 1 || (val != -1 && (val < 1 || val > 255)))
            return -EINVAL;
        sk->ttl = val == -1 ? 0 : (uint8_t)val;
        return 0;
    case IP_TOS:
        if (optlen < 1)
            return -EINVAL;
        sk->tos = (uint8_t)val;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

int ust_sock_setsockopt(struct ust_socket *so, int level, int optname, const void *optval,
                        socklen_t optlen)
{
    if (!optval && optlen)
        return -EFAULT;
    if ((int)optlen < 0)
        return -EINVAL;
    switch (level) {
    case SOL_SOCKET:
        return sol_socket_set(so, optname, optval, optlen);
    case IPPROTO_IP:
        return ip_set(so, optname, optval, optlen);
    case IPPROTO_TCP:
        if (so->sk->protocol != IPPROTO_TCP)
            return -ENOPROTOOPT;
        return ust_stream_setsockopt(so, optname, optval, optlen);
    default:
        return -ENOPROTOOPT;
    }
}

/* ---- getsockopt ------------------------------------------------------- */

/* Copies at most *optlen bytes of v and reports how many were copied. */
static int copy_out(void *optval, socklen_t *optlen, const void *v, size_t vlen)
{
    socklen_t n = *optlen < vlen ? *optlen : (socklen_t)vlen;
    if (n && !optval)
        return -EFAULT;
    memcpy(optval, v, n);
    *optlen = n;
    return 0;
}

static int int_out(void *optval, socklen_t *optlen, int v)
{
    return copy_out(optval, optlen, &v, sizeof(v));
}

static int sol_socket_get(struct ust_socket *so, int optname, void *optval, socklen_t *optlen)
{
    struct ust_sk *sk = so->sk;
    if (is_rcvtimeo(optname) || is_sndtimeo(optname)) {
        struct timeval tv =
            timeout_get(is_rcvtimeo(optname) ? so->file->rcvtimeo_ns : so->file->sndtimeo_ns);
        return copy_out(optval, optlen, &tv, sizeof(tv));
    }
    switch (optname) {
    case SO_TYPE:
        return int_out(optval, optlen, sk->type);
    case SO_PROTOCOL:
        return int_out(optval, optlen, sk->protocol);
    case SO_DOMAIN:
        return int_out(optval, optlen, AF_INET);
    case SO_ACCEPTCONN:
        return int_out(optval, optlen, sk->protocol == IPPROTO_TCP && ust_stream_listening(so));
    case SO_LINGER:
        if (sk->protocol != IPPROTO_TCP)
            return -ENOPROTOOPT;
        return ust_stream_get_linger(so, optval, optlen);
    case SO_RCVLOWAT:       /* Linux's default is 1 */
        return int_out(optval, optlen,
                       sk->protocol == IPPROTO_TCP ? ust_stream_get_rcvlowat(so) : 1);
    case SO_SNDLOWAT:
        return int_out(optval, optlen, 1);
    case SO_ERROR:
        return int_out(optval, optlen, ust_sk_take_err(sk));
    case SO_REUSEADDR:
        return int_out(optval, optlen, sk->reuseaddr);
    case SO_BROADCAST:
        return int_out(optval, optlen, sk->broadcast);
    case SO_REUSEPORT:
        return int_out(optval, optlen, sk->reuseport);
    case SO_OOBINLINE:
        return int_out(optval, optlen, sk->oobinline);
    case SO_KEEPALIVE:
        return int_out(optval, optlen, sk->keepalive);
    case SO_RCVBUF:
        return int_out(optval, optlen, (int)sk->rcvbuf);
    case SO_SNDBUF:
        return int_out(optval, optlen, (int)sk->sndbuf);
    default:
        return -ENOPROTOOPT;
    }
}

static int ip_get(struct ust_socket *so, int optname, void *optval, socklen_t *optlen)
{
    struct ust_sk *sk = so->sk;
    switch (optname) {
    case IP_TTL:
        return int_out(optval, optlen, sk->ttl ? sk->ttl : sk->stack->cfg.ip_default_ttl);
    case IP_TOS:
        return int_out(optval, optlen, sk->tos);
    default:
        return -ENOPROTOOPT;
    }
}

int ust_sock_getsockopt(struct ust_socket *so, int level, int optname, void *optval,
                        socklen_t *optlen)
{
    if (!optlen)
        return -EFAULT;
    if ((int)*optlen < 0)
        return -EINVAL;
    switch (level) {
    case SOL_SOCKET:
        return sol_socket_get(so, optname, optval, optlen);
    case IPPROTO_IP:
        return ip_get(so, optname, optval, optlen);
    case IPPROTO_TCP:
        if (so->sk->protocol != IPPROTO_TCP)
            return -ENOPROTOOPT;
        return ust_stream_getsockopt(so, optname, optval, optlen);
    default:
        return -ENOPROTOOPT;
    }
}
