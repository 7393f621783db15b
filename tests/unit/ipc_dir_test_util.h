/* A fresh directory of shared IPC objects for every test function.
 *
 * Shared named objects (cfg.ipc_shared, docs/IPC-SHARED.md) outlive the
 * stack that made them, as the kernel's do: a queue one test function
 * leaves behind would be found by the next one under the same name, and
 * would count against its limits. ctest gives each test program its own
 * USTACK_IPC_DIR; ipc_dir_setup gives each test function a new empty
 * subdirectory of it (of /dev/shm when run by hand) and points
 * USTACK_IPC_DIR there, ipc_dir_teardown removes it with what is left in
 * it. Use ipc_dir_test(f) instead of cmocka_unit_test(f). Forked children
 * inherit the variable, so they meet the parent's objects. Include after
 * <cmocka.h>. */
#ifndef UST_TESTS_IPC_DIR_TEST_UTIL_H
#define UST_TESTS_IPC_DIR_TEST_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char ipc_dir_base[2048];
static char ipc_dir_now[2200];
static unsigned ipc_dir_seq;

static void ipc_dir_rm(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char path[4096];
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static inline int ipc_dir_setup(void **state)
{
    (void)state;
    if (!ipc_dir_base[0]) {
        const char *b = getenv("USTACK_IPC_DIR");
        snprintf(ipc_dir_base, sizeof(ipc_dir_base), "%s", b && b[0] ? b : "/dev/shm");
    }
    if (mkdir(ipc_dir_base, 01777) == 0)
        chmod(ipc_dir_base, 01777);
    snprintf(ipc_dir_now, sizeof(ipc_dir_now), "%s/ustack-t.%d.%u", ipc_dir_base, (int)getpid(),
             ipc_dir_seq++);
    ipc_dir_rm(ipc_dir_now);
    if (mkdir(ipc_dir_now, 01777) != 0)
        return -1;
    chmod(ipc_dir_now, 01777);          /* other uids create there too (perm tests) */
    return setenv("USTACK_IPC_DIR", ipc_dir_now, 1);
}

static inline int ipc_dir_teardown(void **state)
{
    (void)state;
    ipc_dir_rm(ipc_dir_now);
    return 0;
}

#define ipc_dir_test(f) cmocka_unit_test_setup_teardown(f, ipc_dir_setup, ipc_dir_teardown)

#endif
