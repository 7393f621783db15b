# shellcheck shell=bash
# Helpers for the TCP integration tests (sourced after lib.sh, not run).
# They need a namespace made by ust_netns_create with tap0 = 10.0.0.1/24 on
# Linux's side and ustack at 10.0.0.2.

UST_LINUX_ADDR=10.0.0.1
UST_USTACK_ADDR=10.0.0.2

# tcp_tap_setup: namespace with tap0 up at 10.0.0.1/24.
tcp_tap_setup() {
    ust_netns_create "$1"
    nsx ip tuntap add dev tap0 mode tap
    nsx ip addr add "$UST_LINUX_ADDR/24" dev tap0
    nsx ip link set tap0 up
}

# tcp_serve_start ARGS...: like ust_serve_start, but skips the test (exit 77)
# when ustack was built without TCP (SOCK_STREAM: EPROTONOSUPPORT).
tcp_serve_start() {
    UST_SERVE_LOG="$UST_TMP/serve.$RANDOM.log"
    UST_LOGS+=("$UST_SERVE_LOG")
    : >"$UST_SERVE_LOG"
    ip netns exec "$UST_NS" "$USTACK" serve "$@" >"$UST_SERVE_LOG" 2>&1 &
    UST_SERVE_PID=$!
    UST_PIDS+=("$UST_SERVE_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q '^ustack: serving ' "$UST_SERVE_LOG" && { head -n 1 "$UST_SERVE_LOG"; return 0; }
        if ! ust_serve_alive; then
            grep -q 'Protocol not supported' "$UST_SERVE_LOG" &&
                ust_skip "TCP not available yet (ustack serve: SOCK_STREAM not supported)"
            cat "$UST_SERVE_LOG" >&2
            ust_fail "ustack serve exited before serving"
        fi
        sleep 0.1
    done
    ust_fail "ustack serve did not print its serving line within 10 s"
}

# tcp_make_file PATH MIB: a file of MIB MiB of random bytes.
tcp_make_file() { head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"; }

# tcp_check_same A B WHAT: same SHA-256 or fail.
tcp_check_same() {
    local a b
    a=$(sha256sum <"$1" | cut -d' ' -f1)
    b=$(sha256sum <"$2" | cut -d' ' -f1)
    [ "$a" = "$b" ] || ust_fail "$3: SHA-256 differs ($(stat -c %s "$2") of $(stat -c %s "$1") bytes arrived)"
    ust_log "$3: SHA-256 matches ($a)"
}

# tcp_curl_get URL OUT [SECONDS]: curl from Linux in the namespace; prints speed.
tcp_curl_get() {
    local url=$1 out=$2 secs=${3:-120} w
    w=$(nsx timeout "$secs" curl -sS --fail --max-time "$secs" -o "$out" \
        -w '%{size_download} bytes in %{time_total} s, %{speed_download} B/s' "$url") ||
        ust_fail "curl $url failed (or took more than $secs s)"
    ust_log "curl $url: $w"
}

# tcp_ustack_get URL OUT ARGS...: `ustack get` in the namespace over tap0.
tcp_ustack_get() {
    local url=$1 out=$2 rc=0 log="$UST_TMP/get.$RANDOM.log"
    shift 2
    UST_LOGS+=("$log")
    nsx timeout 120 "$USTACK" get "$url" -o "$out" --tap tap0 --addr "$UST_USTACK_ADDR/24" \
        --timeout 60 "$@" 2>"$log" || rc=$?
    grep -E '^ustack get: HTTP' "$log" || true
    [ "$rc" -eq 0 ] || ust_fail "ustack get $url exited with status $rc"
}

# tcp_http_server DIR PORT: python3 in the namespace serving DIR at
# 10.0.0.1:PORT: files with Content-Length (HTTP/1.1 keep-alive), and
# /chunked/NAME sends NAME with the chunked transfer coding.
tcp_http_server() {
    local dir=$1 port=$2 log="$UST_TMP/pyhttp.log"
    UST_LOGS+=("$log")
    cat >"$UST_TMP/pyhttp.py" <<'EOF'
import functools, http.server, os, sys
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        if not self.path.startswith("/chunked/"):
            return super().do_GET()
        path = os.path.join(self.directory, os.path.basename(self.path))
        try:
            f = open(path, "rb")
        except OSError:
            return self.send_error(404)
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        with f:
            n = 1
            while True:
                b = f.read(n)
                if not b:
                    break
                self.wfile.write(b"%x\r\n" % len(b) + b + b"\r\n")
                n = n * 3 % 70001 + 1  # chunk sizes of all kinds
        self.wfile.write(b"0\r\n\r\n")
srv = http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])),
                                      functools.partial(H, directory=sys.argv[3]))
print("ready", flush=True)
srv.serve_forever()
EOF
    nsx python3 "$UST_TMP/pyhttp.py" "$UST_LINUX_ADDR" "$port" "$dir" >"$log" 2>&1 &
    UST_PIDS+=($!)
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q ready "$log" && return 0
        sleep 0.1
    done
    ust_fail "the python HTTP server did not start"
}

# tcp_check_handshake_options PCAP CLIENT SERVER: the SYN from CLIENT and
# the SYN-ACK from SERVER both carry MSS, SACK-permitted, timestamps and
# window scale (so the connection negotiated all four).
tcp_check_handshake_options() {
    local cap=$1 cli=$2 srv=$3
    local opts='tcp.options.mss_val && tcp.options.sack_perm && tcp.options.timestamp.tsval && tcp.options.wscale.shift'
    ust_check_pcap_has "$cap" \
        "ip.src == $cli && tcp.flags.syn == 1 && tcp.flags.ack == 0 && $opts" \
        "ip.src == $srv && tcp.flags.syn == 1 && tcp.flags.ack == 1 && $opts"
    ust_log "handshake $cli -> $srv: SYN and SYN-ACK both carry MSS, SACK-permitted, timestamps, window scale"
}

# tcp_check_four_way_close PCAP: a FIN from each side, the last one acked,
# and no RST.
tcp_check_four_way_close() {
    local cap=$1
    ust_check_pcap_has "$cap" \
        "tcp.flags.fin == 1 && ip.src == $UST_LINUX_ADDR" \
        "tcp.flags.fin == 1 && ip.src == $UST_USTACK_ADDR"
    [ "$(ust_pcap_count "$cap" 'tcp.flags.reset == 1')" -eq 0 ] ||
        ust_fail "a connection in $cap was reset instead of closed"
    # The last frame of every connection is the ACK of the second FIN.
    local last
    last=$(ust_tshark -r "$cap" -Y tcp -T fields -e tcp.stream -e tcp.flags.fin -e tcp.flags.ack |
        awk '{ fin[$1] = $2; ack[$1] = $3 } END { for (s in fin) if (fin[s] != 0 && fin[s] != "False") print s }')
    [ -z "$last" ] || ust_fail "connections $last of $cap end with an unacknowledged FIN"
    ust_log "close: FIN from both sides, the last one acknowledged, no RST"
}

# tcp_check_pcap FILE: with IP and TCP checksum checks on, no malformed
# frame, no bad checksum, and no expert warning other than the window ones
# (a zero window or a full window is flow control doing its job, not an error).
# tcp_serve_settle: waits (at most 5 s) until the running `ustack serve` has
# no connection left but TIME-WAIT ones, so that a capture taken until it is
# stopped holds every close: the peer's last FIN may still be in flight when
# curl returns.
tcp_serve_settle() {
    local i ctl="/run/ustack/serve-$UST_SERVE_PID.sock"
    for ((i = 0; i < 50; i++)); do
        "$USTACK" ss --control "$ctl" 2>/dev/null |
            awk 'NR > 1 && $1 != "TIME-WAIT" { busy = 1 } END { exit busy }' && return 0
        sleep 0.1
    done
    ust_log "serve: connections still open after 5 s (checked anyway)"
}

tcp_check_pcap() {
    local file=$1 bad
    UST_LOGS+=("$UST_TMP/tshark.err")
    [ -s "$file" ] || ust_fail "capture $file is missing or empty"
    ust_log "capture: $(ust_tshark -r "$file" | wc -l) frames"
    # Left out: tshark's HTTP reassembler calls a legitimate retransmission
    # of bytes it already holds (a spurious one from Linux, or one after a
    # drop in the TAP queue) "New fragment overlaps old data", an error of
    # its own reassembly, not of the segment.
    bad=$(ust_tshark -r "$file" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
        -Y '(_ws.malformed || ip.checksum.status == 0 || tcp.checksum.status == 0 ||
             (_ws.expert.severity >= warning && !tcp.analysis.zero_window &&
              !tcp.analysis.window_full && !tcp.analysis.zero_window_probe &&
              !tcp.analysis.zero_window_probe_ack)) &&
            !(_ws.expert.message contains "overlaps old data")') || ust_fail "tshark cannot read $file"
    [ -z "$bad" ] || { echo "$bad" | head -n 20; ust_fail "tshark reports bad frames in $file"; }
}
