/* The deterministic PRNG: xoshiro256** (Blackman & Vigna, "Scrambled linear
 * pseudorandom number generators", 2018), its state filled by splitmix64
 * as the authors recommend. */
#include "core/rand.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

static inline uint64_t rotl64(uint64_t x, unsigned k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void ust_rng_seed(struct ust_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (unsigned i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    /* All-zero is xoshiro's one fixed point; splitmix64 cannot produce four
     * zeros in a row, but keep the guarantee explicit. */
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
}

uint64_t ust_rng_next(struct ust_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* Lemire, "Fast Random Integer Generation in an Interval" (2019): the high
 * half of x * bound, rejecting the few x that would bias the result. */
uint64_t ust_rng_below(struct ust_rng *r, uint64_t bound)
{
    if (bound <= 1)
        return 0;
#ifdef __SIZEOF_INT128__
    unsigned __int128 m = (unsigned __int128)ust_rng_next(r) * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        uint64_t threshold = -bound % bound;   /* 2^64 mod bound */
        while (low < threshold) {
            m = (unsigned __int128)ust_rng_next(r) * bound;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
#else
    uint64_t threshold = -bound % bound;
    for (;;) {
        uint64_t x = ust_rng_next(r);
        if (x >= threshold)
            return x % bound;
    }
#endif
}

double ust_rng_double(struct ust_rng *r)
{
    /* 53 random bits: every representable multiple of 2^-53 in [0, 1). */
    return (double)(ust_rng_next(r) >> 11) * 0x1.0p-53;
}

static int read_urandom(uint64_t *v)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n;
    do {
        n = read(fd, v, sizeof(*v));
    } while (n < 0 && errno == EINTR);
    close(fd);
    return n == (ssize_t)sizeof(*v) ? 0 : -1;
}

uint64_t ust_rng_entropy(void)
{
    uint64_t v = 0;
    ssize_t n;
    do {
        n = getrandom(&v, sizeof(v), 0);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof(v))
        return v;
    if (read_urandom(&v) == 0)
        return v;
    /* Last resort: address-space layout randomization. */
    uint64_t x = (uint64_t)(uintptr_t)&v ^ (uint64_t)(uintptr_t)&ust_rng_entropy;
    return splitmix64(&x);
}
