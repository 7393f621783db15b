# Shared helpers for the integration tests (sourced, not run). A test does:
#   source "$(dirname "$0")/lib.sh"; ust_init "$@"
# then checks what it needs (ust_require_*), creates its own network
# namespace (ust_netns_create) and runs everything in it (nsx ...).
# The EXIT trap stops every process the test started, deletes the namespace
# and the temporary directory, also when a step fails.

UST_NS=""                # the test's network namespace, once created
UST_PIDS=()              # background processes to stop on exit
UST_LOGS=()              # logs to show when the test fails
UST_TMP=""
UST_SERVE_PID=""
UST_SERVE_LOG=""

ust_log() { printf '%s\n' "--- $*"; }
ust_skip() { printf 'SKIP: %s\n' "$*" >&2; exit 77; }
ust_fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

# Runs a command inside the test's namespace.
nsx() { ip netns exec "$UST_NS" "$@"; }

# Stops one process we started: the given signal, then SIGKILL after 5 s.
ust_stop_pid() {
    local pid=$1 sig=${2:-TERM} i
    kill -"$sig" "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

ust_cleanup() {
    local rc=$? pid
    trap - EXIT
    set +e
    for pid in "${UST_PIDS[@]}"; do
        ust_stop_pid "$pid" TERM
    done
    if [ -n "$UST_NS" ]; then
        # Anything still running in our namespace was started by this test.
        for pid in $(ip netns pids "$UST_NS" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
        ip netns del "$UST_NS" 2>/dev/null || echo "warning: could not delete namespace $UST_NS" >&2
    fi
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
        for log in "${UST_LOGS[@]}"; do
            [ -s "$log" ] && { echo "=== $log"; tail -n 50 "$log"; }
        done
    fi
    [ -n "$UST_TMP" ] && rm -rf "$UST_TMP"
    exit "$rc"
}

# ust_init /path/to/ustack: sets USTACK and UST_TMP, installs the cleanup.
ust_init() {
    USTACK=${1:-}
    [ -n "$USTACK" ] || { echo "usage: $0 /path/to/ustack" >&2; exit 2; }
    [ -x "$USTACK" ] || ust_fail "no ustack binary at $USTACK"
    UST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ustack-test.XXXXXX")
    trap ust_cleanup EXIT
    trap 'exit 130' INT TERM
}

ust_require_root() { [ "$(id -u)" -eq 0 ] || ust_skip "needs root (network namespaces, TAP/TUN)"; }
ust_require_tun() { [ -c /dev/net/tun ] || ust_skip "/dev/net/tun is missing"; }
ust_require_netns() { ip netns list >/dev/null 2>&1 || ust_skip "'ip netns' is unavailable"; }
ust_require_cmds() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || ust_skip "$c is not installed"
    done
}

# ust_netns_create SUFFIX: a namespace of our own, ust-<pid>-SUFFIX, lo up.
ust_netns_create() {
    UST_NS="ust-$$-$1"
    ip netns add "$UST_NS" || { UST_NS=""; ust_fail "cannot create namespace ust-$$-$1"; }
    nsx ip link set lo up
}

# True while the background `ustack serve` runs.
ust_serve_alive() { [ -n "$UST_SERVE_PID" ] && kill -0 "$UST_SERVE_PID" 2>/dev/null; }

# ust_serve_start ARGS...: runs `ustack serve ARGS` in the namespace in the
# background and waits (at most 10 s) for its "serving" line.
ust_serve_start() {
    UST_SERVE_LOG="$UST_TMP/serve.log"
    UST_LOGS+=("$UST_SERVE_LOG")
    : >"$UST_SERVE_LOG"
    ip netns exec "$UST_NS" "$USTACK" serve "$@" >"$UST_SERVE_LOG" 2>&1 &
    UST_SERVE_PID=$!
    UST_PIDS+=("$UST_SERVE_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q '^ustack: serving ' "$UST_SERVE_LOG" && { head -n 1 "$UST_SERVE_LOG"; return 0; }
        ust_serve_alive || ust_fail "ustack serve exited before serving"
        sleep 0.1
    done
    ust_fail "ustack serve did not print its serving line within 10 s"
}

# ust_serve_stop: SIGINT, then waits (at most 10 s) for a clean exit (status 0).
ust_serve_stop() {
    local pid=$UST_SERVE_PID i rc=0
    kill -INT "$pid"
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && ust_fail "ustack serve did not stop within 10 s of SIGINT"
    wait "$pid" || rc=$?
    UST_SERVE_PID=""
    [ "$rc" -eq 0 ] || ust_fail "ustack serve exited with status $rc after SIGINT"
    grep -q '^ustack: stopped' "$UST_SERVE_LOG" || ust_fail "ustack serve printed no 'stopped' line"
}

# ust_check_ping ADDR COUNT INTERVAL SIZE: Linux's ping(8) from the namespace
# gets every reply, none duplicated or corrupted.
ust_check_ping() {
    local addr=$1 count=$2 interval=$3 size=$4 out="$UST_TMP/ping.out"
    ust_log "ping -c $count -i $interval -s $size $addr"
    # -w 20: ping stops after 20 s whatever happens (a good run takes 2 s).
    nsx timeout 60 ping -n -c "$count" -i "$interval" -s "$size" -w 20 "$addr" >"$out" 2>&1 || true
    tail -n 2 "$out"
    grep -q " $count received, 0% packet loss" "$out" ||
        { tail -n 20 "$out"; ust_fail "ping -s $size $addr: expected $count replies, 0% loss"; }
    ! grep -qE 'wrong data|DUP!|truncated' "$out" || { tail -n 20 "$out"; ust_fail "ping -s $size: bad replies"; }
}

# ust_check_udp_echo ADDR PORT SIZES...: one datagram of each size (random
# bytes) sent with socat comes back byte for byte.
ust_check_udp_echo() {
    local addr=$1 port=$2 n
    shift 2
    for n in "$@"; do
        head -c "$n" /dev/urandom >"$UST_TMP/udp.in"
        : >"$UST_TMP/udp.out"
        # -b: read the whole file at once, so it leaves as one datagram; -t 2:
        # after stdin's end, wait 2 s for the answer.
        nsx timeout 20 socat -b 65536 -t 2 - "UDP:$addr:$port" <"$UST_TMP/udp.in" >"$UST_TMP/udp.out" ||
            ust_fail "socat to $addr:$port failed for $n bytes"
        cmp -s "$UST_TMP/udp.in" "$UST_TMP/udp.out" ||
            ust_fail "udp echo of $n bytes: got $(stat -c %s "$UST_TMP/udp.out") bytes back, not the same"
        ust_log "udp echo $n bytes: identical"
    done
}

# ust_check_refused ADDR PORT: a UDP datagram to a port nobody serves makes
# the stack answer ICMP port unreachable, which Linux reports to a connected
# socket as ECONNREFUSED.
ust_check_refused() {
    local out
    out=$(nsx timeout 20 python3 - "$1" "$2" <<'EOF' 2>&1
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], int(sys.argv[2])))
s.settimeout(3)
s.send(b"x")
try:
    s.recv(10)
    print("got data back from a closed port")
except ConnectionRefusedError as e:
    print("ConnectionRefusedError:", e)
except socket.timeout:
    print("timed out: no ICMP port unreachable")
EOF
    ) || true
    echo "$out"
    grep -q '^ConnectionRefusedError' <<<"$out" || ust_fail "udp to closed port $1:$2 was not refused"
}

# Runs tshark on a capture; its stderr (e.g. the running-as-root notice) goes to a file.
ust_tshark() { tshark "$@" 2>>"$UST_TMP/tshark.err"; }

# ust_check_pcap FILE: tshark, with IP and UDP checksum checks on, finds no
# malformed frame and no expert warning or error.
ust_check_pcap() {
    local file=$1 bad
    UST_LOGS+=("$UST_TMP/tshark.err")
    [ -s "$file" ] || ust_fail "capture $file is missing or empty"
    ust_log "capture: $(ust_tshark -r "$file" | wc -l) frames"
    bad=$(ust_tshark -r "$file" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
        -Y '_ws.expert.severity >= warning || _ws.malformed') || ust_fail "tshark cannot read $file"
    [ -z "$bad" ] || { echo "$bad"; ust_fail "tshark reports bad frames in $file"; }
}

# ust_pcap_count FILE FILTER: frames of the capture matching a display filter.
ust_pcap_count() { ust_tshark -r "$1" -Y "$2" | wc -l; }

# ust_check_pcap_has FILE FILTER...: each display filter matches some frame.
ust_check_pcap_has() {
    local file=$1 f
    shift
    for f in "$@"; do
        [ "$(ust_pcap_count "$file" "$f")" -gt 0 ] || ust_fail "no '$f' frame in $file"
    done
}

# ust_check_echo_service ADDR: what both the TAP and the TUN test ask of
# `ustack serve --service echo --port 7` at ADDR, from Linux's side: ping
# unfragmented (50 at 10 ms) and fragmented both ways (4000 bytes), UDP echo
# up to 8000 bytes, and a refusal from the closed port 9.
ust_check_echo_service() {
    ust_check_ping "$1" 50 0.01 1400
    ust_check_ping "$1" 10 0.2 4000
    ust_check_udp_echo "$1" 7 1 100 1472 1473 4000 8000
    ust_check_refused "$1" 9
}

# ust_check_ustack_ping COUNT ARGS...: `ustack ping -c COUNT -i 0.2 ARGS` run
# in the namespace gets COUNT replies and exits 0. On failure it shows the
# whole output and ustack's capture of the exchange.
ust_check_ustack_ping() {
    local count=$1 out rc=0 cap="$UST_TMP/ustack-ping.pcap"
    shift
    ust_log "ustack ping -c $count $*"
    out=$(nsx timeout 30 "$USTACK" ping --pcap "$cap" -c "$count" -i 0.2 "$@" 2>&1) || rc=$?
    if [ "$rc" -ne 0 ] || ! grep -q "^$count packets transmitted, $count received, 0% packet loss" <<<"$out"; then
        echo "$out"
        [ -s "$cap" ] && ust_tshark -r "$cap"
        ust_fail "ustack ping $*: status $rc, expected $count replies"
    fi
    echo "$out" | tail -n 2
}
