#!/usr/bin/env bash
# `ustack trace FILE.pcap`: the demo's narrative rebuilt from a capture.
#  - from the demo's own capture (no root needed): the handshake, the data,
#    the retransmissions and the close, with the states of RFC 9293 Figure 5
#    inferred on both sides in the right order, and the counts in the summary;
#  - from a capture of the Linux kernel itself (root: a namespace of its own,
#    tshark on its loopback while Python connects, sends 100 KB and closes):
#    Linux's options (mss 65495, SACK, timestamps, window scale), both sides' states, the closer
#    in TIME-WAIT and the other side CLOSED;
#  - errors: a missing file, a file that is not pcap, --port with no match.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ust_init "$@"
ust_require_cmds python3 timeout

# in_order FILE PATTERN...: each extended regex matches a line after the previous one.
in_order() {
    local file=$1
    shift
    python3 - "$file" "$@" <<'PY' || ust_fail "$file: the narrative is not in the expected order"
import re, sys
lines = open(sys.argv[1]).read().splitlines()
at = 0
for s in sys.argv[2:]:
    rx = re.compile(s)
    for i in range(at, len(lines)):
        if rx.search(lines[i]):
            at = i + 1
            break
    else:
        sys.exit(f"no line matching /{s}/ after line {at}")
PY
}

out="$UST_TMP/trace.txt"
UST_LOGS+=("$out")
timeout 20 "$USTACK" demo --seed 3 --only tcp --pcap "$UST_TMP/demo.pcap" >/dev/null ||
    ust_fail "ustack demo --pcap failed"
timeout 20 "$USTACK" trace "$UST_TMP/demo.pcap" >"$out" || ust_fail "ustack trace failed"
in_order "$out" \
    'CLOSED -> SYN-SENT' 'CLOSED -> LISTEN' '- SYN seq 0 win' '<mss 1460, SACK ok, TS, wscale 2>' \
    'LISTEN -> SYN-RECEIVED' 'SYN-SENT -> ESTABLISHED' '<-+ SYN,ACK seq 0 ack 1' \
    'SYN-RECEIVED -> ESTABLISHED' '- 1:1449-+>' '<-+ ACK 1449 ' 'again: ' \
    'ESTABLISHED -> FIN-WAIT-1' 'ESTABLISHED -> CLOSE-WAIT' 'FIN-WAIT-1 -> FIN-WAIT-2' \
    'CLOSE-WAIT -> LAST-ACK' 'FIN-WAIT-2 -> TIME-WAIT' '<-+ FIN,ACK seq 1 ack 262146' \
    'LAST-ACK -> CLOSED' '- ACK 2 win' \
    'A 10\.0\.0\.1:[0-9]+ sent [0-9]+ segments, 26[0-9]+ bytes of data, [1-9][0-9]* retransmitted; ends in TIME-WAIT' \
    'B 10\.0\.0\.2:5001 sent [0-9]+ segments, 0 bytes of data, 0 retransmitted; ends in CLOSED'
ust_log "the demo's capture told back"

# Errors.
if "$USTACK" trace "$UST_TMP/none.pcap" 2>"$UST_TMP/err"; then ust_fail "trace of a missing file succeeded"; fi
grep -q 'No such file' "$UST_TMP/err" || ust_fail "missing file: unclear error"
printf "%0200d\n" 0 >"$UST_TMP/bad.pcap"   # long enough for a header, but text
if "$USTACK" trace "$UST_TMP/bad.pcap" 2>"$UST_TMP/err"; then ust_fail "trace of a text file succeeded"; fi
grep -q 'not a pcap file' "$UST_TMP/err" || ust_fail "text file: unclear error"
if "$USTACK" trace --port 9 "$UST_TMP/demo.pcap" >/dev/null 2>"$UST_TMP/err"; then
    ust_fail "trace --port 9 found a connection"
fi
grep -q 'no TCP segment on that port' "$UST_TMP/err" || ust_fail "--port 9: unclear error"

# A capture of Linux's own TCP, in a namespace of our own.
ust_require_root
ust_require_netns
ust_require_cmds ip tshark
ust_netns_create trace
cap="$UST_TMP/linux.pcap"
ip netns exec "$UST_NS" tshark -i lo -F pcap -w "$cap" -f 'tcp port 5001' >"$UST_TMP/tshark.log" 2>&1 &
tshark_pid=$!    # tshark itself: ip netns exec execs it
UST_PIDS+=("$tshark_pid")
for ((i = 0; i < 100; i++)); do
    grep -q 'Capturing on' "$UST_TMP/tshark.log" && break
    sleep 0.1
done
grep -q 'Capturing on' "$UST_TMP/tshark.log" || ust_fail "tshark did not start capturing"
nsx timeout 20 python3 - <<'PY' || ust_fail "the Linux client and server failed"
import socket, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5001))
srv.listen(1)
got = []
def serve():
    c, _ = srv.accept()
    n = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        n += len(b)
    got.append(n)
    c.close()
t = threading.Thread(target=serve)
t.start()
cl = socket.create_connection(("127.0.0.1", 5001))
cl.sendall(b"x" * 100000)
cl.close()
t.join()
assert got == [100000], got
PY
sleep 1
kill -INT "$tshark_pid"
wait "$tshark_pid" 2>/dev/null || true
timeout 20 "$USTACK" trace "$cap" >"$out" || ust_fail "ustack trace of Linux's capture failed"
cat "$out"
in_order "$out" \
    'CLOSED -> SYN-SENT' '- SYN seq 0 win' '<mss 65495, SACK ok, TS, wscale [0-9]+>' \
    'LISTEN -> SYN-RECEIVED' '<-+ SYN,ACK seq 0 ack 1' 'SYN-RECEIVED -> ESTABLISHED' \
    'ESTABLISHED -> FIN-WAIT-1' 'ESTABLISHED -> CLOSE-WAIT' 'CLOSE-WAIT -> LAST-ACK' \
    'TIME-WAIT' \
    'A 127\.0\.0\.1:[0-9]+ sent [0-9]+ segments, 100000 bytes of data, 0 retransmitted; ends in TIME-WAIT' \
    'B 127\.0\.0\.1:5001 sent [0-9]+ segments, 0 bytes of data, 0 retransmitted; ends in CLOSED'
ust_log "PASS"
