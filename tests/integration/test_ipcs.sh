#!/usr/bin/env bash
# ustack ipcmk, ipcs and ipcrm on the shared objects in /dev/shm, no devices:
#  - help lists the three commands; bad usage exits 2 with usage on stderr;
#  - ipcmk -Q creates a POSIX queue with the given limits and mode (umask
#    applied), refuses an existing name (exit 1, EEXIST);
#  - ipcs shows kind, name, mode, owner, messages, bytes, maxmsg, msgsize,
#    flags and holders for each object; -q / -f / -k select by kind; a file
#    under the prefix that is not a queue is shown as such;
#  - ipcrm -q removes a queue (exit 0, gone from ipcs), a missing one exits
#    1 (ENOENT), a non-queue file's name is removed too;
#  - as root: another user cannot remove someone else's queue (EPERM) nor
#    read a queue without read permission (shown as not readable);
#  - in a private /dev/shm (root: its own mount namespace and tmpfs), ipcs
#    lists exactly the test's objects and ipcrm --all / --all=KIND remove them.
# Messages and holders (fork()ed processes, SIGKILLed ones, a lock left
# owner-dead) are covered by tests/unit/test_shmq_ipcs.c on the same
# ust_shmq_inspect that ipcs prints.
#
# /dev/shm is global: without a private one, every name is ipcs<pid>_*, and
# the EXIT trap removes whatever is left of them.
set -euo pipefail

# As root, run again in a mount namespace of our own with a fresh tmpfs on
# /dev/shm, so that --all cannot touch anybody else's objects.
if [ -z "${UST_IPCS_INNER:-}" ] && [ "$(id -u)" -eq 0 ] &&
    unshare --mount --propagation private true 2>/dev/null; then
    export UST_IPCS_INNER=1
    # shellcheck disable=SC2016 # expanded by the inner shell
    exec unshare --mount --propagation private bash -c \
        'if mount -t tmpfs -o size=16m,mode=1777 ustack-ipcs /dev/shm; then
             export UST_IPCS_PRIVATE=1
         fi
         exec bash "$0" "$@"' "$0" "$@"
fi

source "$(dirname "$0")/lib.sh"
ust_init "$@"
ust_require_cmds timeout awk
P="ipcs$$_"
nobody=()
trap 'rc=$?; rm -f /dev/shm/ustack.*."$P"*; (exit $rc); ust_cleanup' EXIT
umask 022

out="$UST_TMP/out" err="$UST_TMP/err"
# expect_status STATUS CMD...: runs CMD (bounded), stdout to $out, stderr to $err.
expect_status() {
    local want=$1 rc=0
    shift
    timeout 30 "$@" >"$out" 2>"$err" || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$out" "$err"; ust_fail "'${*#"$USTACK"}': status $rc, expected $want"; }
}
# row NAME: the ipcs line of object NAME in $out (empty if none).
row() { awk -v n="$1" 'NR > 1 && $2 == n' "$out"; }
# field NAME COLUMN: one column of that line.
field() { row "$1" | awk -v c="$2" '{ print $c }'; }
expect_field() {
    local got
    got=$(field "$1" "$2")
    [ "$got" = "$3" ] || { cat "$out"; ust_fail "ipcs: $1 column $2 is '$got', expected '$3'"; }
}
listed() { [ -n "$(row "$1")" ]; }

ust_log "help and usage"
expect_status 0 "$USTACK" --help
for cmd in ipcs ipcrm ipcmk; do
    grep -qE "^  $cmd " "$out" || ust_fail "ustack --help does not list '$cmd'"
done
for cmd in ipcs ipcrm ipcmk; do
    expect_status 0 "$USTACK" "$cmd" --help
    grep -q "^usage: ustack $cmd" "$out" || ust_fail "ustack $cmd --help: no usage"
done
bad_usage() {
    expect_status 2 "$USTACK" "$@"
    [ ! -s "$out" ] || ust_fail "ustack $*: printed to stdout on bad usage"
    grep -q "usage: ustack" "$err" || ust_fail "ustack $*: no usage on stderr"
}
bad_usage ipcs --bogus
bad_usage ipcs extra
bad_usage ipcrm
bad_usage ipcrm extra
bad_usage ipcmk
bad_usage ipcmk -Q "${P}x" -m 0
bad_usage ipcmk -Q "${P}x" -s 99999999999
bad_usage ipcmk -Q "${P}x" -p 999
bad_usage ipcmk -Q a/b

ust_log "ipcmk creates queues with their limits and mode"
expect_status 0 "$USTACK" ipcmk -Q "/${P}a" -m 4 -s 64 -p 0640
grep -qx "mq ${P}a" "$out" || ust_fail "ipcmk: printed '$(cat "$out")'"
expect_status 0 "$USTACK" ipcmk -Q "${P}b" -p 0666        # umask 022: 0644
expect_status 1 "$USTACK" ipcmk -Q "${P}a"
grep -q "File exists" "$err" || ust_fail "ipcmk on an existing name: $(cat "$err")"

ust_log "ipcs shows each object"
expect_status 0 "$USTACK" ipcs
head -n1 "$out" | grep -q "^KIND *NAME *MODE *OWNER *MESSAGES *BYTES *MAXMSG *MSGSIZE *FLAGS *HOLDERS$" ||
    ust_fail "ipcs header: $(head -n1 "$out")"
me=$(id -un)
# KIND NAME MODE OWNER MESSAGES BYTES MAXMSG MSGSIZE FLAGS HOLDERS
for col in "1 mq" "3 0640" "4 $me" "5 0" "6 0" "7 4" "8 64" "9 prio" "10 0"; do
    expect_field "${P}a" "${col% *}" "${col#* }"
done
for col in "1 mq" "3 0644" "7 10" "8 8192" "10 0"; do
    expect_field "${P}b" "${col% *}" "${col#* }"
done
expect_status 0 "$USTACK" ipcs -q
{ listed "${P}a" && listed "${P}b"; } || ust_fail "ipcs -q: queues missing"
expect_status 0 "$USTACK" ipcs -k mq
listed "${P}a" || ust_fail "ipcs -k mq: queue missing"
for sel in -f "-k msg"; do
    # shellcheck disable=SC2086
    expect_status 0 "$USTACK" ipcs $sel
    ! listed "${P}a" || ust_fail "ipcs $sel lists a POSIX queue"
done

ust_log "a file under the prefix that is not a queue"
head -c 4096 /dev/zero >"/dev/shm/ustack.mq.${P}junk"
expect_status 0 "$USTACK" ipcs
row "${P}junk" | grep -q "not a ustack queue" || ust_fail "ipcs junk row: $(row "${P}junk")"
expect_status 0 "$USTACK" ipcrm -q "${P}junk"
[ ! -e "/dev/shm/ustack.mq.${P}junk" ] || ust_fail "ipcrm left the junk file"

if [ "$(id -u)" -eq 0 ]; then
    ust_log "another user: no EPERM removal, no reading without permission"
    nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    if command -v setpriv >/dev/null && "${nobody[@]}" "$USTACK" --version >/dev/null 2>&1; then
        expect_status 1 "${nobody[@]}" "$USTACK" ipcrm -q "${P}b"
        grep -q "Operation not permitted" "$err" || ust_fail "ipcrm as another user: $(cat "$err")"
        expect_status 1 "${nobody[@]}" "$USTACK" ipcrm -q "${P}a"    # cannot even read it
        grep -q "Operation not permitted" "$err" || ust_fail "ipcrm as another user: $(cat "$err")"
        expect_status 0 "${nobody[@]}" "$USTACK" ipcs
        expect_field "${P}b" 3 0644                     # readable by others
        row "${P}a" | grep -q "cannot read: Permission denied" ||
            ust_fail "ipcs as another user, mode 0640: $(row "${P}a")"
    else
        nobody=()
        ust_log "(skipped: cannot run ustack as uid 65534)"
    fi
fi

ust_log "ipcrm removes, and fails on a missing object"
expect_status 0 "$USTACK" ipcrm -q "${P}a"
expect_status 0 "$USTACK" ipcs
! listed "${P}a" || ust_fail "ipcrm -q: still listed"
listed "${P}b" || ust_fail "ipcrm -q removed the other queue"
expect_status 1 "$USTACK" ipcrm -q "/${P}a"
grep -q "No such file" "$err" || ust_fail "ipcrm of a missing queue: $(cat "$err")"
expect_status 0 "$USTACK" ipcrm -q "/${P}b"
left=$(compgen -G "/dev/shm/ustack.*.$P*" || true)
[ -z "$left" ] || ust_fail "objects left: $left"

if [ -n "${UST_IPCS_PRIVATE:-}" ]; then
    ust_log "private /dev/shm: ipcs lists exactly ours, ipcrm --all removes them"
    expect_status 0 "$USTACK" ipcs
    [ "$(wc -l <"$out")" -eq 1 ] || ust_fail "ipcs on an empty /dev/shm: $(cat "$out")"
    for n in c d e; do
        expect_status 0 "$USTACK" ipcmk -Q "${P}$n" -m 2 -s 16
    done
    expect_status 0 "$USTACK" ipcs
    [ "$(wc -l <"$out")" -eq 4 ] || ust_fail "ipcs with 3 queues: $(cat "$out")"
    expect_status 0 "$USTACK" ipcrm --all=msg          # no such kind here: nothing
    expect_status 0 "$USTACK" ipcs
    [ "$(wc -l <"$out")" -eq 4 ] || ust_fail "ipcrm --all=msg removed queues"
    # One failure (a missing name) does not stop the rest; the status is 1.
    expect_status 1 "$USTACK" ipcrm --all=mq -q "${P}x"
    expect_status 0 "$USTACK" ipcs
    [ "$(wc -l <"$out")" -eq 1 ] || ust_fail "ipcrm --all=mq left: $(cat "$out")"
    expect_status 0 "$USTACK" ipcmk -Q "${P}f"
    if [ "${#nobody[@]}" -gt 0 ]; then
        expect_status 0 "${nobody[@]}" "$USTACK" ipcrm -a     # skips what is not its own
        [ -e "/dev/shm/ustack.mq.${P}f" ] || ust_fail "ipcrm -a as another user removed root's queue"
    fi
    expect_status 0 "$USTACK" ipcrm -a
    expect_status 0 "$USTACK" ipcs
    [ "$(wc -l <"$out")" -eq 1 ] || ust_fail "ipcrm --all left: $(cat "$out")"
else
    ust_log "(no private /dev/shm: ipcrm --all not run)"
fi
ust_log "ok"
