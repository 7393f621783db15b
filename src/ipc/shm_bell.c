/* Doorbell arena (shm_bell.h): claiming, ringing and waiting on bells. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/shm_bell.h"
#include "ipc/shm_futex.h"
#include "ipc/shm_queue.h"

#define BELL_MAGIC 0x4c4c4542u          /* "BELL" */
#define BELL_VERSION 1u

struct bell {
    _Atomic uint32_t word;              /* event word: counter + SLEEPERS */
    _Atomic uint32_t owner;             /* pid, 0: free */
    _Atomic uint64_t start;             /* owner's start time */
    char pad[48];
};

struct bell_file {
    uint32_t magic, version, nbells, pad;
    char pad2[48];
    struct bell bells[UST_SHMBELL_MAX];
};

struct ust_shmbell_arena {
    struct bell_file *f;
    pid_t pid;
};

static int arena_path(const char *dir, const char *name, char *buf, size_t len)
{
    if (name && (!name[0] || strchr(name, '/') || strlen(name) > 64))
        return -EINVAL;
    int n = snprintf(buf, len, "%s/ustack.bells%s%s", dir ? dir : "/dev/shm", name ? "." : "",
                     name ? name : "");
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Creates a complete arena under an unnamed file, then links it (so nobody
 * maps a half-made one); losing the race is fine. */
static int arena_create(const char *dir, const char *path)
{
    int fd = open(dir ? dir : "/dev/shm", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int r = 0;
    if (ftruncate(fd, sizeof(struct bell_file)) < 0 || fchmod(fd, 0666) < 0)
        r = -errno;
    if (r == 0) {
        struct bell_file *f = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (f == MAP_FAILED) {
            r = -errno;
        } else {
            f->magic = BELL_MAGIC;
            f->version = BELL_VERSION;
            f->nbells = UST_SHMBELL_MAX;
            munmap(f, sizeof(*f));
            char proc[40];
            snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
            if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) < 0 && errno != EEXIST)
                r = -errno;
        }
    }
    close(fd);
    return r;
}

int ust_shmbell_open(const char *dir, const char *name, struct ust_shmbell_arena **out)
{
    char path[4096];
    int r = arena_path(dir, name, path, sizeof(path));
    if (r < 0)
        return r;
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        r = arena_create(dir, path);
        if (r < 0)
            return r;
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    }
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size != (off_t)sizeof(struct bell_file)) {
        close(fd);
        return -EINVAL;
    }
    struct bell_file *f = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (f == MAP_FAILED)
        return -errno;
    if (f->magic != BELL_MAGIC || f->version != BELL_VERSION || f->nbells != UST_SHMBELL_MAX) {
        munmap(f, sizeof(*f));
        return -EINVAL;
    }
    struct ust_shmbell_arena *a = calloc(1, sizeof(*a));
    if (!a) {
        munmap(f, sizeof(*f));
        return -ENOMEM;
    }
    a->f = f;
    a->pid = getpid();
    *out = a;
    return 0;
}

void ust_shmbell_close(struct ust_shmbell_arena *a)
{
    if (!a)
        return;
    munmap(a->f, sizeof(*a->f));
    free(a);
}

int ust_shmbell_unlink(const char *dir, const char *name)
{
    char path[4096];
    int r = arena_path(dir, name, path, sizeof(path));
    if (r < 0)
        return r;
    return unlink(path) < 0 ? -errno : 0;
}

int ust_shmbell_claim(struct ust_shmbell_arena *a)
{
    uint64_t start = ust_shm_pid_start(a->pid);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < UST_SHMBELL_MAX; i++) {
            struct bell *b = &a->f->bells[i];
            uint32_t owner = atomic_load_explicit(&b->owner, memory_order_relaxed);
            if (owner != 0) {
                /* Second pass: take over the bells of dead owners. */
                if (pass == 0 || ust_shm_pid_alive((pid_t)owner, atomic_load(&b->start)))
                    continue;
            }
            if (!atomic_compare_exchange_strong(&b->owner, &owner, (uint32_t)a->pid))
                continue;
            atomic_store(&b->start, start);
            return i;
        }
    }
    return -ENOSPC;
}

void ust_shmbell_release(struct ust_shmbell_arena *a, int bell)
{
    if (bell >= 0 && bell < UST_SHMBELL_MAX)
        atomic_store(&a->f->bells[bell].owner, 0);
}

uint32_t ust_shmbell_snapshot(struct ust_shmbell_arena *a, int bell)
{
    return ust_shmev_snapshot(&a->f->bells[bell].word);
}

int ust_shmbell_wait(struct ust_shmbell_arena *a, int bell, uint32_t snap, unsigned spin,
                     const struct timespec *deadline)
{
    int r = ust_shmev_wait(&a->f->bells[bell].word, snap, spin, deadline, false);
    return r > 0 ? 0 : r;
}

void ust_shmbell_ring(struct ust_shmbell_arena *a, int bell)
{
    if (bell < 0 || bell >= UST_SHMBELL_MAX)
        return;
    if (ust_shmev_bump(&a->f->bells[bell].word))
        ust_shmev_wake(&a->f->bells[bell].word);
}

_Atomic uint32_t *ust_shmbell_word(struct ust_shmbell_arena *a, int bell)
{
    return &a->f->bells[bell].word;
}

uint32_t ust_shmbell_count(struct ust_shmbell_arena *a, int bell)
{
    return ust_shmev_snapshot(&a->f->bells[bell].word) >> 1;
}
