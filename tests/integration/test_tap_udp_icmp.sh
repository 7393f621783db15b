#!/usr/bin/env bash
# Acceptance test of the foundation (Ethernet, ARP, IPv4, ICMP, UDP) against
# the Linux kernel over a TAP device, inside a network namespace of its own:
#  - Linux's ping gets 50/50 replies at 1400 bytes, and 10/10 at 4000 bytes
#    (fragmented both ways: ustack reassembles the request, fragments the reply);
#  - UDP echo returns datagrams up to 8000 bytes byte for byte;
#  - UDP to a closed port is refused (ICMP port unreachable -> ECONNREFUSED);
#  - ustack stops cleanly on SIGINT and prints its counters;
#  - the capture has ARP, ICMP and UDP, and tshark, checking IP and UDP
#    checksums, finds no malformed frame and no expert warning in it;
#  - `ustack ping` over the TAP gets Linux's replies, also fragmented.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ust_init "$@"
ust_require_root
ust_require_tun
ust_require_netns
ust_require_cmds ip ping socat tshark python3 timeout cmp

ust_netns_create tap
nsx ip tuntap add dev tap0 mode tap
nsx ip addr add 10.0.0.1/24 dev tap0
nsx ip link set tap0 up

cap="$UST_TMP/cap.pcap"
ust_serve_start --tap tap0 --addr 10.0.0.2/24 --service echo --port 7 --pcap "$cap" --stats
ust_check_echo_service 10.0.0.2
ust_serve_stop
grep -qiE '^udp\.InDatagrams +[1-9]' "$UST_SERVE_LOG" || ust_fail "--stats printed no UDP.InDatagrams count"

ust_check_pcap "$cap"
ust_check_pcap_has "$cap" arp "icmp.type == 8" "icmp.type == 0" "icmp.type == 3 && icmp.code == 3" \
    "udp.port == 7" "ip.flags.mf == 1"

ust_check_ustack_ping 3 --tap tap0 --addr 10.0.0.2/24 10.0.0.1
ust_check_ustack_ping 2 --tap tap0 --addr 10.0.0.2/24 -s 3000 10.0.0.1
ust_log "PASS"
