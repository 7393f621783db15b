/* Members of struct ust_stack owned by fd/ (the descriptor table). */
#ifndef UST_FD_FD_STATE_H
#define UST_FD_FD_STATE_H

struct ust_file;

/* One descriptor: the file it refers to and its own flags (FD_CLOEXEC),
 * which belong to the descriptor, not the file (POSIX). */
struct ust_fd_slot {
    struct ust_file *file;      /* NULL = free */
    int fd_flags;
};

struct ust_fd_state {
    struct ust_fd_slot *table;  /* cfg.max_fds slots, allocated at init */
    unsigned size;
    unsigned lowest_free;       /* no free slot below this index */
    unsigned used;
};

#endif
