#!/usr/bin/env bash
# TCP against Linux over a TAP device with an impaired path: on tap0 (Linux
# to ustack), `tc qdisc ... netem loss 3% delay 5ms reorder 10%`. In a
# network namespace of its own:
#  - curl downloads 100 MiB from `ustack serve --service http` (the ACKs
#    reaching ustack are lost, delayed and reordered): SHA-256 matches;
#  - `ustack get` downloads 100 MiB from a Python HTTP server in the
#    namespace (the data reaching ustack is impaired): SHA-256 matches;
#  - tshark on ustack's capture of a 20 MiB get shows ustack sending SACK
#    blocks and Linux doing fast retransmissions, and no malformed frame.
# Each transfer is bounded by 120 s. Skips (77) without root, TUN, netns,
# the tools, the netem qdisc (sch_netem) in this kernel, or ustack's TCP.
# Kernels built without CONFIG_NET_SCH_NETEM make this test skip; the
# runnable equivalent there is test_tcp_tap_impaired.sh, which impairs the
# same path inside ustack (`--impair loss=3%,delay=5ms,reorder=10%`,
# netif/impair.c) and checks the same SHA-256s, SACK blocks and fast
# retransmissions.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
ust_init "$@"
ust_require_root
ust_require_tun
ust_require_netns
ust_require_cmds ip tc curl tshark python3 timeout sha256sum

tcp_tap_setup netem
nsx tc qdisc add dev tap0 root netem loss 3% delay 5ms reorder 10% 2>"$UST_TMP/tc.err" ||
    ust_skip "netem is not available in this kernel (tc: $(head -n 1 "$UST_TMP/tc.err"))"
ust_log "$(nsx tc qdisc show dev tap0 | head -n 1)"

www="$UST_TMP/www"
mkdir -p "$www"
tcp_make_file "$www/mid.bin" 20
tcp_make_file "$www/big.bin" 100

# --- curl 100 MiB from ustack.
tcp_serve_start --tap tap0 --addr "$UST_USTACK_ADDR/24" --service http --root "$www" --stats
tcp_curl_get "http://$UST_USTACK_ADDR/big.bin" "$UST_TMP/big.out" 120
tcp_check_same "$www/big.bin" "$UST_TMP/big.out" "curl 100 MiB from ustack under netem"
rm -f "$UST_TMP/big.out"
ust_serve_stop
grep -A3 '^tcp connections:' "$UST_SERVE_LOG" || true

# --- ustack get from Linux: 20 MiB captured, then 100 MiB.
tcp_http_server "$www" 8000
cap="$UST_TMP/get.pcap"
tcp_ustack_get "http://$UST_LINUX_ADDR:8000/mid.bin" "$UST_TMP/mid.out" --pcap "$cap"
tcp_check_same "$www/mid.bin" "$UST_TMP/mid.out" "ustack get 20 MiB under netem"
tcp_ustack_get "http://$UST_LINUX_ADDR:8000/big.bin" "$UST_TMP/big.out" --stats
tcp_check_same "$www/big.bin" "$UST_TMP/big.out" "ustack get 100 MiB under netem"

# Under loss, expert warnings (lost segments, out of order) are expected:
# check only that nothing is malformed.
bad=$(ust_tshark -r "$cap" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
    -Y '_ws.malformed || ip.checksum.status == 0 || tcp.checksum.status == 0') ||
    ust_fail "tshark cannot read $cap"
[ -z "$bad" ] || { echo "$bad" | head; ust_fail "tshark finds malformed frames in $cap"; }
tcp_check_handshake_options "$cap" "$UST_USTACK_ADDR" "$UST_LINUX_ADDR"
ust_check_pcap_has "$cap" "ip.src == $UST_USTACK_ADDR && tcp.options.sack_le" \
    "ip.src == $UST_LINUX_ADDR && tcp.analysis.fast_retransmission"
ust_log "SACK blocks from ustack: $(ust_pcap_count "$cap" "ip.src == $UST_USTACK_ADDR && tcp.options.sack_le")," \
    "fast retransmissions by Linux: $(ust_pcap_count "$cap" 'tcp.analysis.fast_retransmission')"
ust_log "PASS"
