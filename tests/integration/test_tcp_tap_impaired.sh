#!/usr/bin/env bash
# TCP against Linux over a TAP device with an impaired path, the impairment
# made inside ustack (--impair, netif/impair.c) instead of by netem: the
# runnable equivalent of test_tcp_tap_netem.sh on kernels without sch_netem.
# Both directions of tap0, as ustack sees them, get loss 3%, delay 5 ms and
# reorder 10% (a reordered frame skips the delay). In a network namespace of
# its own (Linux 10.0.0.1 on tap0, ustack 10.0.0.2):
#  - curl downloads a file from `ustack serve --service http --impair ...`:
#    SHA-256 matches; ustack's capture (frames it sends before the
#    impairment, frames it receives after it) shows Linux's ACKs carrying
#    SACK blocks and ustack retransmitting (fast retransmissions among them);
#  - `ustack get --impair ...` downloads a file from a Python HTTP server in
#    the namespace: SHA-256 matches; its capture shows ustack sending SACK
#    blocks and Linux retransmitting, fast retransmissions among them;
#  - both captures: the handshake negotiates MSS, SACK-permitted, timestamps
#    and window scale, and nothing is malformed or has a bad checksum.
#  - ustack as the sender recovers from the losses without falling back to
#    its retransmission timer: at most MIB/4 + 4 timeouts (Tcp.TCPTimeouts of
#    `ustack serve --stats`; the loss recovery of RFC 6675 with lost
#    retransmissions found, the rescue retransmission and tail loss probes
#    keep it near 0), and its counters are logged.
# Loss 3% each way with a 10 ms round trip allows about 1 MB/s (Mathis et
# al.): ustack's sender moves 0.8-0.95 MB/s here (Linux's about 2 MB/s, with
# RACK and its reordering heuristics), so the files are UST_IMPAIR_MIB MiB
# (default 16 in `make test`: about 20 s from ustack, 8 s from Linux, and
# tshark reads both captures; `make soak` runs it with 100: about 2 minutes
# each way and 6 in all here). Skips (77) without root, TUN, netns, the tools,
# or ustack's TCP.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
ust_init "$@"
ust_require_root
ust_require_tun
ust_require_netns
ust_require_cmds ip curl tshark python3 timeout sha256sum

IMPAIR="loss=3%,delay=5ms,reorder=10%"
MIB=${UST_IMPAIR_MIB:-16}

tcp_tap_setup impair
www="$UST_TMP/www"
mkdir -p "$www"
tcp_make_file "$www/file.bin" "$MIB"

# impaired_pcap_checks CAP SENDER RECEIVER: the data SENDER retransmitted
# (fast retransmissions among them) and the SACK blocks RECEIVER sent, in a
# capture of a lossy transfer; handshake options; nothing malformed. Under
# loss, expert warnings (lost segments, out of order) are expected, so only
# malformed frames and bad checksums fail. A TCP checksum of 0xffff is the
# other one's-complement zero: Linux's TAP path sometimes emits it for a
# correct sum and Wireshark flags it; it is not ustack's, and not corruption.
impaired_pcap_checks() {
    local cap=$1 snd=$2 rcv=$3 bad sacks rtx fast
    [ -s "$cap" ] || ust_fail "capture $cap is missing or empty"
    # Malformed here means L2-L4. HTTP dissection and TCP reassembly are off:
    # under loss tshark's reassembly reports retransmissions cut at other
    # boundaries as overlaps (legal TCP), and its HTTP dissector may take the
    # file's random bytes for a broken message.
    bad=$(ust_tshark -r "$cap" --disable-protocol http -o tcp.desegment_tcp_streams:FALSE -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
        -Y '_ws.malformed || ip.checksum.status == 0 || (tcp.checksum.status == 0 && tcp.checksum != 0xffff)') ||
        ust_fail "tshark cannot read $cap"
    [ -z "$bad" ] || { echo "$bad" | head; ust_fail "tshark finds malformed frames in $cap"; }
    tcp_check_handshake_options "$cap" "$rcv" "$snd"    # the receiver is the HTTP client
    sacks=$(ust_pcap_count "$cap" "ip.src == $rcv && tcp.options.sack_le")
    rtx=$(ust_pcap_count "$cap" "ip.src == $snd && (tcp.analysis.retransmission || tcp.analysis.fast_retransmission)")
    fast=$(ust_pcap_count "$cap" "ip.src == $snd && tcp.analysis.fast_retransmission")
    ust_log "$(basename "$cap"): $(ust_tshark -r "$cap" | wc -l) frames; ACKs with SACK blocks from $rcv: $sacks;" \
        "retransmissions by $snd: $rtx, of which fast retransmissions: $fast"
    [ "$sacks" -gt 0 ] || ust_fail "no SACK block from $rcv in $cap"
    [ "$rtx" -gt 0 ] || ust_fail "no retransmission by $snd in $cap"
    [ "$fast" -gt 0 ] || ust_fail "no fast retransmission by $snd in $cap"
}

# --- curl from ustack serve --service http, impaired and captured.
cap1="$UST_TMP/serve.pcap"
tcp_serve_start --tap tap0 --addr "$UST_USTACK_ADDR/24" --service http --root "$www" \
    --impair "$IMPAIR" --pcap "$cap1" --stats
t0=$SECONDS
tcp_curl_get "http://$UST_USTACK_ADDR/file.bin" "$UST_TMP/curl.out" 240
ust_log "curl $MIB MiB under '$IMPAIR': $((SECONDS - t0)) s"
tcp_check_same "$www/file.bin" "$UST_TMP/curl.out" "curl $MIB MiB from ustack, impaired"
rm -f "$UST_TMP/curl.out"
ust_serve_stop
grep '^impair ' "$UST_SERVE_LOG" || ust_fail "ustack serve --stats printed no impairment counters"
# The sender's loss recovery: counters, and few retransmission timeouts.
grep -E '^Tcp\.(TCPTimeouts|TCPSackRecovery|TCPLostRetransmit|TCPSACKRescue|TCPLossProbes|TCPFullUndo|TCPDSACKRecv|RetransSegs) ' \
    "$UST_SERVE_LOG" | tr -s ' ' | tr '\n' ' ' | sed 's/^/--- ustack sender: /; s/$/\n/'
rtos=$(sed -n 's/^Tcp\.TCPTimeouts  *\([0-9]*\).*/\1/p' "$UST_SERVE_LOG")
rtos=${rtos:-0}
[ "$rtos" -le $((MIB / 4 + 4)) ] ||
    ust_fail "ustack's sender fell back to its retransmission timer $rtos times for $MIB MiB"
grep -qE '^impair rx: [0-9]+ frames, [0-9]+ passed, [1-9][0-9]* lost' "$UST_SERVE_LOG" ||
    ust_fail "the receive impairment lost nothing"
impaired_pcap_checks "$cap1" "$UST_USTACK_ADDR" "$UST_LINUX_ADDR"

# --- ustack get from Linux (python3 http.server), impaired and captured.
tcp_http_server "$www" 8000
cap2="$UST_TMP/get.pcap"
t0=$SECONDS
tcp_ustack_get "http://$UST_LINUX_ADDR:8000/file.bin" "$UST_TMP/get.out" \
    --impair "$IMPAIR" --pcap "$cap2"
ust_log "ustack get $MIB MiB under '$IMPAIR': $((SECONDS - t0)) s"
tcp_check_same "$www/file.bin" "$UST_TMP/get.out" "ustack get $MIB MiB from Linux, impaired"
impaired_pcap_checks "$cap2" "$UST_LINUX_ADDR" "$UST_USTACK_ADDR"
ust_log "PASS"
