#!/usr/bin/env bash
# TCP throughput between ustack and the Linux kernel over a TAP device, both
# directions, next to Linux <-> Linux over a veth pair, in the same run.
# Everything happens in network namespaces this script creates and deletes.
#
#   ustack -> Linux (TAP):  curl in the namespace downloads from `ustack serve --service http`
#   Linux -> ustack (TAP):  `ustack get` downloads from a Python HTTP server in the namespace
#   Linux -> Linux (veth):  curl downloads from the same Python HTTP server over veth
#
# usage: sudo bench/tap_throughput.sh /path/to/ustack [MIB]   (default 1024 MiB)
# The file is sparse (reads are cheap), so the numbers measure the network
# paths, the HTTP servers and clients. Python's server is the slower server:
# compare "Linux -> ustack" with "Linux -> Linux", which share it.
set -euo pipefail
USTACK=${1:?usage: $0 /path/to/ustack [MIB]}
MIB=${2:-1024}
[ "$(id -u)" -eq 0 ] || { echo "needs root (namespaces, TAP)"; exit 1; }
for c in ip curl python3 timeout; do command -v $c >/dev/null || { echo "$c is missing"; exit 1; }; done

NS=ustb-$$-tap
NS2=ustb-$$-peer
TMP=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for n in "$NS" "$NS2"; do
        for p in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
        ip netns del "$n" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

truncate -s "${MIB}M" "$TMP/file.bin"
ip netns add "$NS"
ip netns add "$NS2"
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up
nsx ip tuntap add dev tap0 mode tap
nsx ip addr add 10.0.0.1/24 dev tap0
nsx ip link set tap0 up
# veth: 10.0.1.1 here, 10.0.1.2 in the peer namespace.
nsx ip link add veth0 type veth peer name veth1 netns "$NS2"
nsx ip addr add 10.0.1.1/24 dev veth0
nsx ip link set veth0 up
ip netns exec "$NS2" ip addr add 10.0.1.2/24 dev veth1
ip netns exec "$NS2" ip link set veth1 up
ip netns exec "$NS2" ip link set lo up

gbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.2f", b * 8 / s / 1e9 }'; }

# ustack -> Linux: curl from ustack serve.
ip netns exec "$NS" "$USTACK" serve --tap tap0 --addr 10.0.0.2/24 --service http --root "$TMP" >"$TMP/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^ustack: serving' "$TMP/serve.log" && break; sleep 0.1; done
read -r bytes secs < <(nsx timeout 300 curl -s -o /dev/null -w '%{size_download} %{time_total}\n' \
    http://10.0.0.2/file.bin)
tap_out=$(gbps "$bytes" "$secs")
kill -INT "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

# The Python server, reachable over tap0 (10.0.0.1) and veth (10.0.1.1).
ip netns exec "$NS" python3 -m http.server 8000 --bind 0.0.0.0 --directory "$TMP" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do nsx curl -s -o /dev/null http://10.0.1.1:8000/ && break; sleep 0.1; done

# Linux -> ustack: ustack get (prints bytes and time).
nsx timeout 300 "$USTACK" get http://10.0.0.1:8000/file.bin -o /dev/null --tap tap0 \
    --addr 10.0.0.2/24 2>"$TMP/get.log" || { cat "$TMP/get.log"; exit 1; }
read -r bytes secs < <(sed -n 's/^ustack get: HTTP 200, \([0-9]*\) bytes in \([0-9.]*\) s.*/\1 \2/p' "$TMP/get.log")
tap_in=$(gbps "$bytes" "$secs")

# Linux -> Linux over veth, same server.
read -r bytes secs < <(ip netns exec "$NS2" timeout 300 curl -s -o /dev/null \
    -w '%{size_download} %{time_total}\n' http://10.0.1.1:8000/file.bin)
veth=$(gbps "$bytes" "$secs")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
printf '%-44s %10s %8s\n' "path ($MIB MiB over HTTP, one connection)" "Gbit/s" "vs veth"
printf '%-44s %10s %8s\n' "ustack -> Linux, TAP (ustack serve -> curl)" "$tap_out" "$(ratio "$tap_out" "$veth")"
printf '%-44s %10s %8s\n' "Linux -> ustack, TAP (python -> ustack get)" "$tap_in" "$(ratio "$tap_in" "$veth")"
printf '%-44s %10s %8s\n' "Linux -> Linux, veth (python -> curl)" "$veth" "1.00"
