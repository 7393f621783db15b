#!/usr/bin/env bash
# TCP senders under loss: ustack's and Linux's, over a TAP device whose
# ustack side is impaired by ustack itself (--impair, both directions, as
# tests/integration/test_tcp_tap_impaired.sh), in a network namespace this
# script creates and deletes. For each direction it prints the time, the
# throughput and the sender's loss recovery counters:
#
#   ustack -> Linux:  curl in the namespace downloads from `ustack serve`;
#                     counters from `ustack serve --stats` (TCPTimeouts,
#                     TCPSackRecovery, TCPLostRetransmit, ...)
#   Linux -> ustack:  `ustack get` downloads from a Python HTTP server;
#                     counters from the namespace's nstat (TcpExtTCPTimeouts...)
#
# usage: sudo bench/tap_impaired.sh /path/to/ustack [MIB] [IMPAIR]
#        (defaults: 20 MiB, loss=3%,delay=5ms,reorder=10%)
set -euo pipefail
USTACK=${1:?usage: $0 /path/to/ustack [MIB] [IMPAIR]}
MIB=${2:-20}
IMPAIR=${3:-loss=3%,delay=5ms,reorder=10%}
[ "$(id -u)" -eq 0 ] || { echo "needs root (namespaces, TAP)"; exit 1; }
for c in ip curl python3 timeout nstat; do command -v $c >/dev/null || { echo "$c is missing"; exit 1; }; done

NS=ustb-$$-imp
TMP=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

truncate -s "${MIB}M" "$TMP/file.bin"
ip netns add "$NS"
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up
nsx ip tuntap add dev tap0 mode tap
nsx ip addr add 10.0.0.1/24 dev tap0
nsx ip link set tap0 up

mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.3f", (s > 0 ? b / s / 1e6 : 0) }'; }
pick() { sed -n "s/^[^ ]*$1[: ]\+\([0-9]\+\).*/\1/p" "$2" | head -n 1; }

# ustack -> Linux.
ip netns exec "$NS" "$USTACK" serve --tap tap0 --addr 10.0.0.2/24 --service http --root "$TMP" \
    --impair "$IMPAIR" --stats >"$TMP/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^ustack: serving' "$TMP/serve.log" && break; sleep 0.1; done
read -r bytes secs < <(nsx timeout 600 curl -s -o /dev/null -w '%{size_download} %{time_total}\n' \
    http://10.0.0.2/file.bin)
kill -INT "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
echo "ustack -> Linux: $bytes bytes in $secs s = $(mbps "$bytes" "$secs") MB/s under $IMPAIR"
grep -E 'Tcp\.(TCPTimeouts|TCPFastRetrans|TCPSackRecovery|TCPLostRetransmit|TCPSACKRescue|RetransSegs|OutSegs|TCPDSACKRecv|TCPFullUndo)\b' \
    "$TMP/serve.log" | tr -s ' ' | sed 's/^/    /' || true

[ -n "${RECDBG:-}" ] && grep "^RTO" "$TMP/serve.log"
# Linux -> ustack.
ip netns exec "$NS" python3 -m http.server 8000 --bind 10.0.0.1 --directory "$TMP" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do nsx curl -s -o /dev/null http://10.0.0.1:8000/ 2>/dev/null && break; sleep 0.1; done
nsx nstat -n >/dev/null
nsx timeout 600 "$USTACK" get http://10.0.0.1:8000/file.bin -o /dev/null --tap tap0 \
    --addr 10.0.0.2/24 --impair "$IMPAIR" 2>"$TMP/get.log" || { cat "$TMP/get.log"; exit 1; }
read -r bytes secs < <(sed -n 's/^ustack get: HTTP 200, \([0-9]*\) bytes in \([0-9.]*\) s.*/\1 \2/p' "$TMP/get.log")
echo "Linux -> ustack: $bytes bytes in $secs s = $(mbps "$bytes" "$secs") MB/s under $IMPAIR"
nsx nstat -a 2>/dev/null | grep -E '^(TcpExtTCPTimeouts|TcpExtTCPSackRecovery|TcpExtTCPLostRetransmit|TcpRetransSegs|TcpOutSegs|TcpExtTCPLossProbes|TcpExtTCPFullUndo|TcpExtTCPPartialUndo|TcpExtTCPSACKReorder|TcpExtTCPTSReorder|TcpExtTCPSpuriousRTOs|TcpExtTCPDSACKUndo|TcpExtTCPLossUndo)\b' |
    awk '{ printf "    %s %s\n", $1, $2 }'
