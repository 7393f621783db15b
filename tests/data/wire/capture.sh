#!/bin/bash
# Recreates the Linux reference captures used by tests/unit/test_wire_*.c.
# Everything happens between two network namespaces joined by a veth pair
# (10.99.0.1 <-> 10.99.0.2); both are deleted on exit. Checksum offload is
# turned off on both ends so the captured checksums are the real ones.
# Usage (root): tests/data/wire/capture.sh OUTDIR  -> OUTDIR/wire_linux.cap
# (a classic pcap file; named .cap because .gitignore drops *.pcap).
# The committed wire_linux.cap is one such run; the tests check the values
# tshark shows for it, so a re-capture means updating test_wire_linux.c.
set -euo pipefail
out=${1:?usage: capture.sh OUTDIR}
mkdir -p "$out"
A=wirecapA-$$
B=wirecapB-$$
cleanup() {
    [ -n "${TPID:-}" ] && kill "$TPID" 2>/dev/null || true
    ip netns del "$A" 2>/dev/null || true
    ip netns del "$B" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$A"
ip netns add "$B"
ip -n "$A" link add va type veth peer name vb netns "$B"
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip -n "$A" addr add 10.99.0.1/24 dev va
ip -n "$B" addr add 10.99.0.2/24 dev vb
for ns in "$A" "$B"; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
ip -n "$A" link set va address 02:00:00:00:00:0a up
ip -n "$B" link set vb address 02:00:00:00:00:0b up

# ETHTOOL_STXCSUM (0x17) off via SIOCETHTOOL: no ethtool binary needed.
txcsum_off() {
    ip netns exec "$1" python3 - "$2" <<'PY'
import ctypes, fcntl, socket, struct, sys
val = ctypes.create_string_buffer(struct.pack("II", 0x17, 0), 8)
ifr = struct.pack("16sP16x", sys.argv[1].encode(), ctypes.addressof(val))
fcntl.ioctl(socket.socket(), 0x8946, ifr)
PY
}
txcsum_off "$A" va
txcsum_off "$B" vb

ip netns exec "$A" timeout 60 tshark -q -i va -F pcap -w "$out/linux.pcap" 2>/dev/null &
TPID=$!
for _ in $(seq 50); do [ -s "$out/linux.pcap" ] && break; sleep 0.1; done
sleep 1

# ARP exchange + ICMP echo with 100 bytes of data.
ip netns exec "$A" ping -c 1 -s 100 -W 2 10.99.0.2 >/dev/null
# Fragmented echo (4000 bytes over MTU 1500 -> 3 fragments each way).
ip netns exec "$A" ping -c 1 -s 4000 -W 2 10.99.0.2 >/dev/null
# IPv4 options: record route (IHL 15).
ip netns exec "$A" ping -c 1 -R -W 2 10.99.0.2 >/dev/null || true
# UDP to a closed port -> ICMP port unreachable.
echo hello-udp | ip netns exec "$A" socat -t 1 - UDP:10.99.0.2:9999 || true
# TCP: handshake with Linux's SYN options, data with timestamps, FIN.
ip netns exec "$B" timeout 10 python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.0.2", 5000)); s.listen(1)
c, _ = s.accept(); d = c.recv(100); c.sendall(b"echo:" + d); c.close()' &
SPID=$!
sleep 0.5
ip netns exec "$A" timeout 10 python3 -c '
import socket
s = socket.create_connection(("10.99.0.2", 5000)); s.sendall(b"hello tcp\n")
print(s.recv(100)); s.close()' >/dev/null
wait $SPID
sleep 1
kill -INT "$TPID"; wait "$TPID" || true
TPID=

# SACK blocks: a bulk transfer through a tiny token-bucket queue on A's side
# (no netem in this kernel), so segments are dropped and B sends SACKs.
ip netns exec "$A" tc qdisc add dev va root tbf rate 20mbit burst 10kb limit 15000
ip netns exec "$A" timeout 60 tshark -q -i va -s 128 -F pcap -w "$out/bulk.pcap" 2>/dev/null &
TPID=$!
for _ in $(seq 50); do [ -s "$out/bulk.pcap" ] && break; sleep 0.1; done
sleep 1
ip netns exec "$B" timeout 20 python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.0.2", 5001)); s.listen(1)
c, _ = s.accept()
while c.recv(65536): pass
c.close()' &
SPID=$!
sleep 0.5
ip netns exec "$A" timeout 20 python3 -c '
import socket
s = socket.create_connection(("10.99.0.2", 5001)); s.sendall(b"x" * 500000); s.close()'
wait $SPID
sleep 1
kill -INT "$TPID"; wait "$TPID" || true
TPID=
# Keep the first ACKs carrying 1, 2 and 3 SACK blocks from the bulk transfer.
# (With timestamps an ACK has room for 3 blocks: 66 + 4 + 8n bytes.)
for n in 1 2 3; do
    tshark -r "$out/bulk.pcap" -Y "tcp.options.sack_le && frame.len == $((70 + 8 * n))" \
        -F pcap -w "$out/sackall$n.pcap" 2>/dev/null
    editcap -F pcap -r "$out/sackall$n.pcap" "$out/sack$n.pcap" 1
done
mergecap -a -F pcap -w "$out/wire_linux.cap" "$out/linux.pcap" "$out"/sack[123].pcap
rm -f "$out/linux.pcap" "$out/bulk.pcap" "$out"/sack*[123].pcap
