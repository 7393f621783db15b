/* Small helpers shared by every layer. */
#ifndef UST_CORE_UTIL_H
#define UST_CORE_UTIL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define UST_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define UST_MIN(a, b) ((a) < (b) ? (a) : (b))
#define UST_MAX(a, b) ((a) > (b) ? (a) : (b))
#define ust_container_of(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define UST_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define UST_LIKELY(x) __builtin_expect(!!(x), 1)

#define UST_NSEC_PER_SEC 1000000000ull
#define UST_NSEC_PER_MSEC 1000000ull
#define UST_NSEC_PER_USEC 1000ull

/* Big-endian loads and stores on byte buffers: the only way wire/ touches
 * packet bytes (no casts of structs onto buffers). */
static inline uint16_t ust_get_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t ust_get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void ust_put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void ust_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* A pause for spin loops (the CPU's spin-wait hint). */
static inline void ust_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

#endif
