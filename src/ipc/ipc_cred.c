/* Credentials and creation mask for IPC objects (POSIX queues, FIFOs,
 * System V queues).
 *
 * Permission checks read the caller's effective uid, gid and supplementary
 * groups at the time of each call, as Linux does (ipcperms(),
 * generic_permission()): a process may change them between calls, or fork
 * a child that drops them. ustack grants no capability: root has no
 * override. */
#include "ipc/ipc.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stack/stack_impl.h"

/* Linux in_group_p(): the effective gid or a supplementary group. */
static bool in_group(gid_t gid)
{
    if (getegid() == gid)
        return true;
    gid_t small[64];
    gid_t *groups = small;
    int n = getgroups(0, NULL);
    if (n <= 0)
        return false;
    if (n > 64 && !(groups = malloc((size_t)n * sizeof(*groups))))
        return false;
    n = getgroups(n, groups);
    bool found = false;
    for (int i = 0; i < n && !found; i++)
        found = groups[i] == gid;
    if (groups != small)
        free(groups);
    return found;
}

unsigned ust_ipc_granted(uid_t uid, uid_t cuid, gid_t gid, gid_t cgid, mode_t mode)
{
    uid_t euid = geteuid();
    if (euid == uid || euid == cuid)
        return (mode >> 6) & 7;
    if (in_group(gid) || (cgid != gid && in_group(cgid)))
        return (mode >> 3) & 7;
    return mode & 7;
}

bool ust_ipc_perm_ok(uid_t uid, uid_t cuid, gid_t gid, gid_t cgid, mode_t mode, unsigned want)
{
    return (want & 7 & ~ust_ipc_granted(uid, cuid, gid, cgid, mode)) == 0;
}

/* The "Umask:" line of /proc/self/status (Linux 4.7+): the process umask,
 * read without changing it (umask(2) can only read by setting, which races
 * with other threads creating files). -1 when unavailable. */
unsigned ust_ipc_open_want(int oflags)
{
    switch (oflags & O_ACCMODE) {
    case O_RDONLY:
        return 4;
    case O_WRONLY:
        return 2;
    default:
        return 6;
    }
}

static int proc_umask(void)
{
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[4096];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)n;
    close(fd);
    buf[got] = '\0';
    const char *line = strstr(buf, "\nUmask:");
    if (!line)
        return -1;
    char *end;
    long v = strtol(line + 7, &end, 8);
    return end == line + 7 || v < 0 || v > 0777 ? -1 : (int)v;
}

mode_t ust_ipc_umask(const struct ust_stack *stack)
{
    if (stack->cfg.ipc_umask >= 0)
        return (mode_t)stack->cfg.ipc_umask & 0777;
    int m = proc_umask();
    return m >= 0 ? (mode_t)m : 022;
}
