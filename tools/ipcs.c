/* ustack ipcs, ipcrm and ipcmk: list, remove and create ustack's shared IPC
 * objects, the files <dir>/ustack.<kind>.<name> (docs/IPC-SHARED.md), as
 * ipcs(1), ipcrm(1) and ipcmk(1) do for the kernel's. The directory is
 * --dir DIR, else $USTACK_IPC_DIR, else /dev/shm (as ust_ipc_dir).
 *
 * A System V queue is the file ustack.msg.<index>, shown with its msqid
 * and key; the second name ustack.msgkey.<key> (a hard link to the same
 * file) is not listed on its own.
 *
 * ipcs reads each object with ust_shmq_inspect: a read-only mapping and no
 * lock, so it never waits for (nor disturbs) a process that stopped or died
 * inside a queue operation. ipcrm removes with ust_shmq_remove (IPC_RMID:
 * blocked senders and receivers get EIDRM, the name goes). ipcmk creates a
 * POSIX queue, with mq_open's defaults. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "ipc/shm_queue.h"

#define KIND_MQ "mq"        /* POSIX queue: the name without its leading '/' */
#define KIND_MSG "msg"      /* System V queue: its index (msqid % 32768) */
#define KIND_MSGKEY "msgkey" /* System V queue: the second name, by key in hex */
#define KIND_FIFO "fifo"    /* named FIFO: its encoded path */

/* The directory of the objects: --dir, $USTACK_IPC_DIR or /dev/shm. */
static const char *ipc_dir;

static void set_dir(const char *opt)
{
    ipc_dir = opt;
    if (!ipc_dir || !ipc_dir[0])
        ipc_dir = getenv("USTACK_IPC_DIR");
    if (!ipc_dir || !ipc_dir[0])
        ipc_dir = "/dev/shm";
}

/* ---- Usage ------------------------------------------------------------- */

void usage_ipcs(FILE *out)
{
    fprintf(out,
            "usage: ustack ipcs [-q] [-f] [-k KIND] [-d DIR]\n\n"
            "Lists ustack's shared IPC objects (the files DIR/ustack.KIND.NAME), like\n"
            "ipcs(1): kind (mq: POSIX queue, msg: System V queue, named by its msqid,\n"
            "its key in the flags; fifo: named FIFO), name, mode, owner, messages and\n"
            "bytes queued, limits (maxmsg,\n"
            "msgsize), flags and holders: the live processes that have it open, with\n"
            "r/w for their side. Flags: prio (POSIX order), auto (removed when its last\n"
            "holder closes), orphan (auto, but no live holder), pending (a committed\n"
            "operation not yet applied: its process is inside it or died there; the\n"
            "counters show it done). Reading takes no lock and changes nothing.\n\n"
            "  -q, --queues      message queues only (kinds mq and msg)\n"
            "  -f, --fifos       FIFOs only\n"
            "  -k, --kind KIND   objects of this kind only\n"
            "  -d, --dir DIR     the objects' directory (default $USTACK_IPC_DIR, else\n"
            "                    /dev/shm)\n");
}

void usage_ipcrm(FILE *out)
{
    fprintf(out,
            "usage: ustack ipcrm [-q NAME]... [-Q KEY]... [-M MSQID]... [-f NAME]... [-a[KIND]]\n"
            "                    [-d DIR]\n\n"
            "Removes ustack shared IPC objects, like ipcrm(1) with IPC_RMID: the name\n"
            "goes, and processes blocked sending to or receiving from the object wake\n"
            "up with EIDRM. Only the owner (or root) may remove an object.\n\n"
            "  -q, --queue NAME  the POSIX queue NAME (with or without its leading '/')\n"
            "  -Q, --msg KEY     the System V queue with this key (0x... in hex)\n"
            "  -M, --msqid ID    the System V queue with this msqid, as `ustack ipcs`\n"
            "                    shows it\n"
            "  -f, --fifo NAME   the FIFO NAME, as `ustack ipcs` shows it\n"
            "  -a, --all[=KIND]  every object (of KIND) that the caller may remove\n"
            "  -d, --dir DIR     the objects' directory (default $USTACK_IPC_DIR, else\n"
            "                    /dev/shm; give it first)\n");
}

void usage_ipcmk(FILE *out)
{
    fprintf(out,
            "usage: ustack ipcmk -Q NAME [-m MAXMSG] [-s MSGSIZE] [-p MODE] [-d DIR]\n\n"
            "Creates a shared POSIX message queue, like ipcmk(1) -Q or mq_open(3) with\n"
            "O_CREAT|O_EXCL: it persists until `ustack ipcrm -q NAME`.\n\n"
            "  -Q, --queue NAME    the queue's name (with or without its leading '/')\n"
            "  -m, --maxmsg N      at most N messages queued (default 10)\n"
            "  -s, --msgsize N     the largest message in bytes (default 8192)\n"
            "  -p, --mode MODE     permissions in octal (default 0644; the umask applies)\n"
            "  -d, --dir DIR       the objects' directory (default $USTACK_IPC_DIR, else\n"
            "                      /dev/shm)\n");
}

/* ---- Collecting objects ------------------------------------------------ */

struct object {
    char kind[UST_SHMQ_KIND_MAX + 1];
    char name[UST_SHMQ_NAME_MAX + 1];
};

struct objects {
    struct object *v;
    size_t n, cap;
    const char *const *kinds;   /* NULL-terminated filter; NULL: every kind */
};

static bool kind_selected(const char *const *kinds, const char *kind)
{
    if (!kinds)
        return true;
    for (; *kinds; kinds++)
        if (strcmp(*kinds, kind) == 0)
            return true;
    return false;
}

static int collect_cb(void *arg, const char *kind, const char *name)
{
    struct objects *o = arg;
    if (!kind_selected(o->kinds, kind) || strlen(name) > UST_SHMQ_NAME_MAX ||
        strcmp(kind, KIND_MSGKEY) == 0)
        return 0;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        struct object *v = realloc(o->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        o->v = v;
        o->cap = cap;
    }
    snprintf(o->v[o->n].kind, sizeof(o->v[o->n].kind), "%s", kind);
    snprintf(o->v[o->n].name, sizeof(o->v[o->n].name), "%s", name);
    o->n++;
    return 0;
}

static int object_cmp(const void *a, const void *b)
{
    const struct object *x = a, *y = b;
    int c = strcmp(x->kind, y->kind);
    return c ? c : strcmp(x->name, y->name);
}

/* Every object of the selected kinds, sorted by kind and name. */
static int collect(struct objects *o, const char *const *kinds)
{
    memset(o, 0, sizeof(*o));
    o->kinds = kinds;
    int r = ust_shmq_list(ipc_dir, collect_cb, o);
    if (r < 0) {
        free(o->v);
        o->v = NULL;
        o->n = 0;
        return r;
    }
    if (o->n > 1)
        qsort(o->v, o->n, sizeof(o->v[0]), object_cmp);
    return 0;
}

/* ---- ipcs -------------------------------------------------------------- */

static const char *owner_str(uid_t uid, char *buf, size_t len)
{
    struct passwd pw, *res = NULL;
    char tmp[1024];
    if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
        snprintf(buf, len, "%s", res->pw_name);
    else
        snprintf(buf, len, "%u", (unsigned)uid);
    return buf;
}

static const char *flags_str(const struct ust_shmq_stat *st, char *buf, size_t len)
{
    const char *parts[5];
    int n = 0;
    uint32_t f = st->info.flags;
    if (f & UST_SHMQ_PRIO)
        parts[n++] = "prio";
    if (f & UST_SHMQ_AUTOREMOVE)
        parts[n++] = st->nlive == 0 ? "auto,orphan" : "auto";
    if (st->pending)
        parts[n++] = "pending";
    if (st->info.removed)
        parts[n++] = "removed";
    char key[32];
    if (st->has_sysv) {
        if (st->sysv.key)
            snprintf(key, sizeof(key), "key=0x%08x", (unsigned)st->sysv.key);
        else
            snprintf(key, sizeof(key), "key=private");
        parts[n++] = key;
    }
    buf[0] = '\0';
    for (int i = 0; i < n; i++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "", parts[i]);
    if (n == 0)
        snprintf(buf, len, "-");
    return buf;
}

/* "N: PID[r][w] ..." and "(+D dead)" for entries of dead holders. */
static void print_holders(FILE *out, const struct ust_shmq_stat *st)
{
    fprintf(out, "%u", st->nlive);
    for (unsigned i = 0; i < st->nlive; i++) {
        unsigned a = st->holder[i].access;
        fprintf(out, "%s%d%s%s", i ? " " : ": ", (int)st->holder[i].pid,
                (a & UST_SHMQ_RD) ? "r" : "", (a & UST_SHMQ_WR) ? "w" : "");
    }
    if (st->ndead)
        fprintf(out, " (+%u dead)", st->ndead);
}

/* What the NAME column shows: a System V queue's msqid, else the name. */
static const char *shown_name(const struct object *ob, const struct ust_shmq_stat *st, int r,
                              char *buf, size_t len)
{
    if (r == 0 && st->has_sysv) {
        snprintf(buf, len, "%d", (int)st->sysv.id);
        return buf;
    }
    return ob->name;
}

static void print_row(FILE *out, const struct object *ob, int name_w)
{
    struct ust_shmq_stat st;
    int r = ust_shmq_inspect(ipc_dir, ob->kind, ob->name, &st);
    char idbuf[24];
    fprintf(out, "%-5s %-*s ", ob->kind, name_w, shown_name(ob, &st, r, idbuf, sizeof(idbuf)));
    if (r == -ENOENT) {
        fprintf(out, "(removed while listing)\n");
        return;
    }
    if (r < 0) {
        fprintf(out, "(%s: %s)\n", r == -EINVAL ? "not a ustack queue" : "cannot read",
                strerror(-r));
        return;
    }
    char owner[64], flags[96];
    mode_t mode = st.has_sysv ? (mode_t)st.sysv.mode : st.info.mode;
    uid_t uid = st.has_sysv ? (uid_t)st.sysv.uid : st.info.uid;
    fprintf(out, "%04o  %-8s %8u %10llu %7u %8u  %-12s ", (unsigned)mode & 07777u,
            owner_str(uid, owner, sizeof(owner)), st.info.curmsgs,
            (unsigned long long)st.info.bytes, st.info.maxmsg, st.info.msgsize,
            flags_str(&st, flags, sizeof(flags)));
    print_holders(out, &st);
    fputc('\n', out);
}

int cmd_ipcs(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "queues", no_argument, NULL, 'q' }, { "fifos", no_argument, NULL, 'f' },
        { "kind", required_argument, NULL, 'k' }, { "help", no_argument, NULL, 'h' },
        { "dir", required_argument, NULL, 'd' },  { NULL, 0, NULL, 0 },
    };
    const char *kinds[8] = { NULL };
    const char *dir = NULL;
    int nk = 0, c;
    bool filter = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qfk:d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'q': kinds[nk++] = KIND_MQ; kinds[nk++] = KIND_MSG; filter = true; break;
        case 'f': kinds[nk++] = KIND_FIFO; filter = true; break;
        case 'k': kinds[nk++] = optarg; filter = true; break;
        case 'd': dir = optarg; break;
        case 'h': usage_ipcs(stdout); return TOOL_EXIT_OK;
        default: usage_ipcs(stderr); return TOOL_EXIT_USAGE;
        }
        if (nk > 5) {
            fprintf(stderr, "ustack ipcs: too many kinds\n\n");
            usage_ipcs(stderr);
            return TOOL_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ustack ipcs: unexpected argument '%s'\n\n", argv[optind]);
        usage_ipcs(stderr);
        return TOOL_EXIT_USAGE;
    }
    set_dir(dir);
    struct objects o;
    int r = collect(&o, filter ? kinds : NULL);
    if (r < 0) {
        fprintf(stderr, "ustack ipcs: cannot list %s: %s\n", ipc_dir, strerror(-r));
        return TOOL_EXIT_FAIL;
    }
    int name_w = 4;
    for (size_t i = 0; i < o.n; i++) {
        int w = strcmp(o.v[i].kind, KIND_MSG) == 0 ? 10 : (int)strlen(o.v[i].name);
        if (w > name_w)
            name_w = w;                 /* a msqid has up to 10 digits */
    }
    printf("%-5s %-*s %-5s %-8s %8s %10s %7s %8s  %-12s %s\n", "KIND", name_w, "NAME", "MODE",
           "OWNER", "MESSAGES", "BYTES", "MAXMSG", "MSGSIZE", "FLAGS", "HOLDERS");
    for (size_t i = 0; i < o.n; i++)
        print_row(stdout, &o.v[i], name_w);
    free(o.v);
    return TOOL_EXIT_OK;
}

/* ---- ipcrm ------------------------------------------------------------- */

/* Who may remove kind/name: the owner recorded in the object or, when the
 * caller cannot read it (EACCES) or it is no queue (EINVAL), the file's
 * owner (the creator's euid either way). Returns 0 for a queue, -EINVAL for
 * a file that is no queue (its uid still set), or another -errno. */
static int object_owner(const char *kind, const char *name, uid_t *uid, uid_t *cuid)
{
    struct ust_shmq_stat st;
    int r = ust_shmq_inspect(ipc_dir, kind, name, &st);
    if (r == 0) {
        *uid = *cuid = st.info.uid;
        if (st.has_sysv) {              /* IPC_RMID: the owner or the creator */
            *uid = st.sysv.uid;
            *cuid = st.sysv.cuid;
        }
        return 0;
    }
    if (r != -EACCES && r != -EINVAL)
        return r;
    char path[4400];
    struct stat sb;
    int p = ust_shmq_path(ipc_dir, kind, name, path, sizeof(path));
    if (p < 0)
        return p;
    if (lstat(path, &sb) < 0)
        return -errno;
    *uid = *cuid = sb.st_uid;
    return r == -EACCES ? 0 : -EINVAL;
}

/* A file with our name that is no object this version can open (corrupt,
 * or a newer layout): unlink the name. */
static int remove_name(const char *kind, const char *name)
{
    char path[4400];
    int r = ust_shmq_path(ipc_dir, kind, name, path, sizeof(path));
    if (r == 0 && unlink(path) < 0)
        r = -errno;
    if (r < 0)
        fprintf(stderr, "ustack ipcrm: %s %s: %s\n", kind, name, strerror(-r));
    else
        fprintf(stderr, "ustack ipcrm: %s %s: not a queue ustack can open; name removed\n",
                kind, name);
    return r;
}

/* A System V queue's key name, if it still names q's file. */
static void remove_key_name(struct ust_shmq *q)
{
    struct ust_shmq_sysv *sv = ust_shmq_sysv(q);
    if (!sv || ust_shmq_lock_sysv(q) < 0)
        return;
    int32_t key = sv->key;
    ust_shmq_unlock_sysv(q, false);
    if (key == 0)
        return;                         /* IPC_PRIVATE: no such name */
    char name[16], path[4400];
    snprintf(name, sizeof(name), "%08x", (unsigned)key);
    dev_t dev;
    ino_t ino;
    ust_shmq_ident(q, &dev, &ino);
    struct stat st;
    if (ust_shmq_path(ipc_dir, KIND_MSGKEY, name, path, sizeof(path)) == 0 &&
        stat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino)
        unlink(path);
}

/* IPC_RMID on one object; prints why not. Returns 0 or -errno. */
static int remove_one(const char *kind, const char *name)
{
    uid_t owner = 0, creator = 0;
    int r = object_owner(kind, name, &owner, &creator);
    if ((r == 0 || r == -EINVAL) && geteuid() != 0 && geteuid() != owner &&
        geteuid() != creator) {
        r = -EPERM;                     /* IPC_RMID: the owner or a privileged caller */
    } else if (r == -EINVAL) {
        return remove_name(kind, name);
    }
    struct ust_shmq *q = NULL;
    if (r == 0)
        r = ust_shmq_open(ipc_dir, kind, name, 0, 0, NULL, &q);
    if (r == 0) {
        remove_key_name(q);
        r = ust_shmq_remove(q);
        ust_shmq_close(q);
    }
    if (r < 0)
        fprintf(stderr, "ustack ipcrm: %s %s: %s\n", kind, name, strerror(-r));
    return r;
}

/* "/name" or "name": the mq kind's object name. */
static const char *mq_name(const char *s)
{
    return s[0] == '/' ? s + 1 : s;
}

static int remove_all(const char *kind)
{
    const char *kinds[2] = { kind, NULL };
    struct objects o;
    int r = collect(&o, kind ? kinds : NULL);
    if (r < 0) {
        fprintf(stderr, "ustack ipcrm: cannot list %s: %s\n", ipc_dir, strerror(-r));
        return r;
    }
    int failed = 0;
    for (size_t i = 0; i < o.n; i++) {
        /* --all skips what the caller may not remove, as ipcrm -a does. */
        uid_t owner = 0, creator = 0;
        int own = object_owner(o.v[i].kind, o.v[i].name, &owner, &creator);
        if (geteuid() != 0 && (own == 0 || own == -EINVAL) && owner != geteuid() &&
            creator != geteuid())
            continue;
        if (remove_one(o.v[i].kind, o.v[i].name) < 0 && failed == 0)
            failed = -EIO;
    }
    free(o.v);
    return failed;
}

/* The System V queue by key (-Q) or msqid (-M): its index file's name,
 * or "" (printed why) when there is none. */
static const char *msg_name(int opt, const char *arg, char *buf, size_t len)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(arg, &end, opt == 'Q' ? 16 : 10);
    buf[0] = '\0';
    if (errno || end == arg || *end || v > (opt == 'Q' ? 0xffffffffUL : 0x7fffffffUL)) {
        fprintf(stderr, "ustack ipcrm: bad %s '%s'\n", opt == 'Q' ? "key" : "msqid", arg);
        return buf;
    }
    if (opt == 'M') {
        snprintf(buf, len, "%lu", v % 32768);
        struct ust_shmq_stat st;
        if (ust_shmq_inspect(ipc_dir, KIND_MSG, buf, &st) == 0 &&
            (!st.has_sysv || st.sysv.id != (int32_t)v)) {
            fprintf(stderr, "ustack ipcrm: msqid %s: %s\n", arg, strerror(EINVAL));
            buf[0] = '\0';
        }
        return buf;
    }
    char kname[16];
    snprintf(kname, sizeof(kname), "%08lx", v);
    struct ust_shmq_stat st;
    int r = ust_shmq_inspect(ipc_dir, KIND_MSGKEY, kname, &st);
    if (r == 0 && st.has_sysv && !st.info.removed)
        snprintf(buf, len, "%u", (unsigned)st.sysv.id % 32768u);
    else
        fprintf(stderr, "ustack ipcrm: key %s: %s\n", arg, strerror(r < 0 ? -r : ENOENT));
    return buf;
}

int cmd_ipcrm(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "queue", required_argument, NULL, 'q' }, { "msg", required_argument, NULL, 'Q' },
        { "msqid", required_argument, NULL, 'M' }, { "fifo", required_argument, NULL, 'f' },
        { "all", optional_argument, NULL, 'a' },   { "dir", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
    };
    int c, given = 0;
    const char *dir = NULL;
    optind = 1;
    /* First pass: check the usage before removing anything. */
    while ((c = getopt_long(argc, argv, "q:Q:M:f:a::d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'q': case 'Q': case 'M': case 'f': case 'a': given++; break;
        case 'd': dir = optarg; break;
        case 'h': usage_ipcrm(stdout); return TOOL_EXIT_OK;
        default: usage_ipcrm(stderr); return TOOL_EXIT_USAGE;
        }
    }
    set_dir(dir);
    if (optind < argc || given == 0) {
        if (optind < argc)
            fprintf(stderr, "ustack ipcrm: unexpected argument '%s'\n\n", argv[optind]);
        else
            fprintf(stderr, "ustack ipcrm: nothing to remove\n\n");
        usage_ipcrm(stderr);
        return TOOL_EXIT_USAGE;
    }
    int failed = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "q:Q:M:f:a::d:h", longopts, NULL)) != -1) {
        int r = 0;
        char idx[24];
        switch (c) {
        case 'q': r = remove_one(KIND_MQ, mq_name(optarg)); break;
        case 'Q':
        case 'M':
            r = msg_name(c, optarg, idx, sizeof(idx))[0] ? remove_one(KIND_MSG, idx) : -ENOENT;
            break;
        case 'f': r = remove_one(KIND_FIFO, optarg); break;
        case 'a': r = remove_all(optarg); break;
        default: break;
        }
        failed |= r < 0;
    }
    return failed ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

/* ---- ipcmk ------------------------------------------------------------- */

int cmd_ipcmk(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "queue", required_argument, NULL, 'Q' }, { "maxmsg", required_argument, NULL, 'm' },
        { "msgsize", required_argument, NULL, 's' }, { "mode", required_argument, NULL, 'p' },
        { "dir", required_argument, NULL, 'd' },   { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = NULL;
    /* mq_open(3)'s defaults: mq_maxmsg 10, mq_msgsize 8192. */
    struct ust_shmq_attr a = { .maxmsg = 10, .msgsize = 8192, .flags = UST_SHMQ_PRIO,
                               .mode = 0644 };
    const char *name = NULL;
    unsigned long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "Q:m:s:p:d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'Q': name = mq_name(optarg); break;
        case 'd': dir = optarg; break;
        case 'm':
            if (!parse_uint(optarg, 1, UST_SHMQ_MAXMSG_MAX, &v))
                goto bad;
            a.maxmsg = (uint32_t)v;
            break;
        case 's':
            if (!parse_uint(optarg, 1, UST_SHMQ_MSGSIZE_MAX, &v))
                goto bad;
            a.msgsize = (uint32_t)v;
            break;
        case 'p': {
            char *end;
            errno = 0;
            v = strtoul(optarg, &end, 8);
            if (errno || end == optarg || *end || v > 0777)
                goto bad;
            a.mode = (mode_t)v;
            break;
        }
        case 'h': usage_ipcmk(stdout); return TOOL_EXIT_OK;
        default: usage_ipcmk(stderr); return TOOL_EXIT_USAGE;
        }
    }
    if (!name || optind < argc) {
        fprintf(stderr, "ustack ipcmk: %s\n\n",
                optind < argc ? "unexpected argument" : "-Q NAME is required");
        usage_ipcmk(stderr);
        return TOOL_EXIT_USAGE;
    }
    set_dir(dir);
    mode_t mask = umask(0);             /* mq_open(3) applies the umask */
    umask(mask);
    a.mode &= ~mask;
    struct ust_shmq *q = NULL;
    int r = ust_shmq_open(ipc_dir, KIND_MQ, name, O_CREAT | O_EXCL, 0, &a, &q);
    if (r < 0) {
        fprintf(stderr, "ustack ipcmk: %s %s: %s\n", KIND_MQ, name, strerror(-r));
        if (r != -EINVAL && r != -ENAMETOOLONG)
            return TOOL_EXIT_FAIL;
        fputc('\n', stderr);            /* a bad name: bad usage */
        usage_ipcmk(stderr);
        return TOOL_EXIT_USAGE;
    }
    ust_shmq_close(q);
    printf("%s %s\n", KIND_MQ, name);
    return TOOL_EXIT_OK;
bad:
    fprintf(stderr, "ustack ipcmk: bad value for -%c: '%s'\n\n", c, optarg);
    usage_ipcmk(stderr);
    return TOOL_EXIT_USAGE;
}
