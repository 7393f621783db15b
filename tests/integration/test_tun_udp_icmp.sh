#!/usr/bin/env bash
# The TAP acceptance test over a TUN device: IPv4 packets without Ethernet,
# so no ARP. Linux routes 10.0.1.0/24 through tun0 (point to point):
#  - Linux's ping gets 50/50 replies at 1400 bytes, and 10/10 at 4000 bytes
#    (fragmented both ways);
#  - UDP echo returns datagrams up to 8000 bytes byte for byte;
#  - UDP to a closed port is refused (ICMP port unreachable -> ECONNREFUSED);
#  - ustack stops cleanly on SIGINT and prints its counters, no ARP ones;
#  - the capture (raw IP) has ICMP and UDP and no ARP, and tshark finds
#    nothing bad in it;
#  - `ustack ping` over the TUN gets Linux's replies, also fragmented.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ust_init "$@"
ust_require_root
ust_require_tun
ust_require_netns
ust_require_cmds ip ping socat tshark python3 timeout cmp

ust_netns_create tun
nsx ip tuntap add dev tun0 mode tun
nsx ip addr add 10.0.1.1/24 dev tun0
nsx ip link set tun0 up

cap="$UST_TMP/cap.pcap"
ust_serve_start --tun tun0 --addr 10.0.1.2/24 --service echo --port 7 --pcap "$cap" --stats
ust_check_echo_service 10.0.1.2
ust_serve_stop
grep -qiE '^udp\.InDatagrams +[1-9]' "$UST_SERVE_LOG" || ust_fail "--stats printed no UDP.InDatagrams count"
! grep -qiE '^arp\.' "$UST_SERVE_LOG" || ust_fail "ARP counters moved on a TUN device"

ust_check_pcap "$cap"
ust_check_pcap_has "$cap" "icmp.type == 8" "icmp.type == 0" "icmp.type == 3 && icmp.code == 3" \
    "udp.port == 7" "ip.flags.mf == 1"
[ "$(ust_pcap_count "$cap" arp)" -eq 0 ] || ust_fail "ARP frames on a TUN device"

ust_check_ustack_ping 3 --tun tun0 --addr 10.0.1.2/24 10.0.1.1
ust_check_ustack_ping 2 --tun tun0 --addr 10.0.1.2/24 -s 3000 10.0.1.1
ust_log "PASS"
