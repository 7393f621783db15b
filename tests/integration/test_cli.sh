#!/usr/bin/env bash
# The ustack command without root or devices:
#  - help: `ustack --help` lists every subcommand; `ustack help CMD` and
#    `ustack CMD --help` print CMD's usage on stdout and exit 0;
#  - bad usage (unknown command or option, bad value, missing argument)
#    prints usage on stderr only and exits 2;
#  - `ustack ping` over ustack's loopback gets 3 of 3 replies and exits 0;
#    with no route it gets none and exits 1;
#  - `ustack demo` tells the ARP exchange, the 3 pings and the UDP echo, exits
#    0, replays identically from the same seed (also with loss), and its
#    --pcap capture holds ARP, ICMP and UDP.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ust_init "$@"
ust_require_cmds timeout

# expect_status STATUS CMD...: runs CMD (bounded), stdout to $out, stderr to $err.
out="$UST_TMP/out" err="$UST_TMP/err"
expect_status() {
    local want=$1 rc=0
    shift
    timeout 30 "$@" >"$out" 2>"$err" || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$out" "$err"; ust_fail "'${*#"$USTACK"}': status $rc, expected $want"; }
}

ust_log "help"
expect_status 0 "$USTACK" --help
for cmd in serve ping demo help; do
    grep -qE "^  $cmd " "$out" || ust_fail "ustack --help does not list '$cmd'"
done
for cmd in serve ping demo; do
    expect_status 0 "$USTACK" help "$cmd"
    grep -q "^usage: ustack $cmd" "$out" || ust_fail "ustack help $cmd: no usage"
    expect_status 0 "$USTACK" "$cmd" --help
    grep -q "^usage: ustack $cmd" "$out" || ust_fail "ustack $cmd --help: no usage"
done

ust_log "bad usage exits 2 with usage on stderr"
bad_usage() {
    expect_status 2 "$USTACK" "$@"
    [ ! -s "$out" ] || ust_fail "ustack $*: printed to stdout on bad usage"
    grep -q "usage: ustack" "$err" || ust_fail "ustack $*: no usage on stderr"
}
bad_usage
bad_usage frobnicate
bad_usage help frobnicate
bad_usage serve --bogus
bad_usage serve --service echo                     # no device
bad_usage serve --tap tap0 --addr 10.0.0.2/24      # no service
bad_usage serve --tap tap0 --addr 10.0.0.2/33 --service echo
bad_usage serve --tap tap0 --addr 10.0.0.2/24 --service telnet
bad_usage ping                                     # no HOST
bad_usage ping --bogus 127.0.0.1
bad_usage ping -c x 127.0.0.1
bad_usage ping -c 1 not-an-address
bad_usage ping --tap tap0 127.0.0.1                # TAP without --addr
bad_usage demo --loss 200
bad_usage demo --seed
bad_usage demo extra

ust_log "ping over loopback"
expect_status 0 "$USTACK" ping 127.0.0.1 -c 3 -i 0.2
cat "$out"
[ "$(grep -c '^[0-9]* bytes from 127.0.0.1: icmp_seq=[1-3] time=' "$out")" -eq 3 ] ||
    ust_fail "ustack ping 127.0.0.1: expected 3 reply lines"
grep -q '^3 packets transmitted, 3 received, 0% packet loss' "$out" || ust_fail "ustack ping: bad summary"
grep -q '^rtt min/avg/max/mdev = ' "$out" || ust_fail "ustack ping: no rtt line"
expect_status 0 "$USTACK" ping -c 2 -i 0.2 -s 20000 127.0.0.1
grep -q '^2 packets transmitted, 2 received' "$out" || ust_fail "ustack ping -s 20000: expected 2 replies"

ust_log "ping without a route fails with status 1"
expect_status 1 "$USTACK" ping -c 1 -W 0.5 192.0.2.1
grep -q '^1 packets transmitted, 0 received' "$out" ||
    { cat "$out" "$err"; ust_fail "ustack ping 192.0.2.1: expected no reply"; }

ust_log "demo"
expect_status 0 "$USTACK" demo
cat "$out"
for want in 'who has 10.0.0.2? tell 10.0.0.1' 'B answers with an ARP reply' \
    'A receives the ARP reply: 10.0.0.2 is at' 'echo reply from 10.0.0.2, icmp_seq=3' \
    'ping: 3 transmitted, 3 received, 0% loss' 'B: ust_recvfrom(fd) = 12 bytes from 10.0.0.1' \
    'A: ust_recvfrom(fd) = 12 bytes from 10.0.0.2:7: "hello from A"' 'A got back exactly the bytes'; do
    grep -qF "$want" "$out" || ust_fail "ustack demo: no '$want' in its story"
done

ust_log "demo replays from its seed"
expect_status 0 "$USTACK" demo --seed 7 --loss 30 --delay 5
cp "$out" "$UST_TMP/demo1"
expect_status 0 "$USTACK" demo --seed 7 --loss 30 --delay 5
cmp -s "$out" "$UST_TMP/demo1" || { diff "$UST_TMP/demo1" "$out"; ust_fail "same seed, different story"; }
grep -q 'the link loses a frame' "$out" || ust_fail "demo --loss 30: no frame lost"

ust_log "demo --pcap"
expect_status 0 "$USTACK" demo --pcap "$UST_TMP/demo.pcap"
[ -s "$UST_TMP/demo.pcap" ] || ust_fail "demo --pcap wrote nothing"
if command -v tshark >/dev/null 2>&1; then
    ust_check_pcap "$UST_TMP/demo.pcap"
    ust_check_pcap_has "$UST_TMP/demo.pcap" "arp.opcode == 1" "arp.opcode == 2" "icmp.type == 8" \
        "icmp.type == 0" "udp.port == 7"
fi
ust_log "PASS"
