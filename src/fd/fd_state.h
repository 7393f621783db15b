/* Members of struct ust_stack owned by fd/ (the descriptor table). */
#ifndef UST_FD_FD_STATE_H
#define UST_FD_FD_STATE_H

struct ust_file;

struct ust_fd_state {
    struct ust_file **table;    /* max_fds slots */
    unsigned size;
};

#endif
