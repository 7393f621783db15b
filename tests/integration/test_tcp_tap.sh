#!/usr/bin/env bash
# Acceptance test of TCP against the Linux kernel over a TAP device, inside a
# network namespace of its own (Linux 10.0.0.1 on tap0, ustack 10.0.0.2):
#  - curl (Linux) downloads 1 MiB and 100 MiB files from
#    `ustack serve --service http`: SHA-256 matches; HEAD, 404 and keep-alive
#    (two URLs, one connection) behave;
#  - `ustack get` downloads 100 MiB from a Python HTTP server in the
#    namespace (Content-Length), and 3 MiB with the chunked coding: SHA-256
#    matches;
#  - socat round-trips 10 MiB through `ustack serve --service echo`;
#  - 500 concurrent connections from Linux (asyncio), all open at once, are
#    all served by the echo service;
#  - tshark on the captures: the handshake, both ways (ustack passive and
#    active), negotiates MSS, SACK-permitted, timestamps and window scale;
#    connections end with a FIN from each side and no RST; no malformed frame,
#    no bad IP or TCP checksum, and no expert warning except zero/full window;
#  - ustack serve stops cleanly on SIGINT and prints TCP_INFO (--stats).
# Skips (77) without root, TUN, netns, the tools, or while ustack has no TCP.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
ust_init "$@"
ust_require_root
ust_require_tun
ust_require_netns
ust_require_cmds ip curl socat tshark python3 timeout sha256sum cmp

tcp_tap_setup tcp
www="$UST_TMP/www"
mkdir -p "$www"
tcp_make_file "$www/small.bin" 1
tcp_make_file "$www/chunky.bin" 3
tcp_make_file "$www/big.bin" 100
echo "<html>ustack</html>" >"$www/index.html"
url="http://$UST_USTACK_ADDR"

# --- curl from ustack serve --service http (captured: small transfers only).
cap1="$UST_TMP/http.pcap"
tcp_serve_start --tap tap0 --addr "$UST_USTACK_ADDR/24" --service http --root "$www" --pcap "$cap1"
tcp_curl_get "$url/small.bin" "$UST_TMP/small.out" 30
tcp_check_same "$www/small.bin" "$UST_TMP/small.out" "curl 1 MiB from ustack"
code=$(nsx timeout 30 curl -s -o /dev/null -w '%{http_code}' "$url/nope.bin") || true
[ "$code" = 404 ] || ust_fail "GET of a missing file: status $code, not 404"
len=$(nsx timeout 30 curl -sI "$url/small.bin" | tr -d '\r' | awk 'tolower($1) == "content-length:" { print $2 }')
[ "$len" = 1048576 ] || ust_fail "HEAD: Content-Length '$len', not 1048576"
nsx timeout 30 curl -sS -v -o /dev/null -o /dev/null "$url/index.html" "$url/small.bin" 2>"$UST_TMP/curl-v.log" ||
    ust_fail "curl of two URLs failed"
grep -qi 're-using existing connection\|reusing existing connection' "$UST_TMP/curl-v.log" ||
    ust_fail "keep-alive: curl did not reuse the connection for the second URL"
ust_log "http: 404, HEAD and keep-alive as expected"
tcp_serve_settle
ust_serve_stop

tcp_check_pcap "$cap1"
tcp_check_handshake_options "$cap1" "$UST_LINUX_ADDR" "$UST_USTACK_ADDR"
tcp_check_four_way_close "$cap1"

# --- curl 100 MiB from ustack (no capture: full speed).
tcp_serve_start --tap tap0 --addr "$UST_USTACK_ADDR/24" --service http --root "$www" --stats
tcp_curl_get "$url/big.bin" "$UST_TMP/big.out" 120
tcp_check_same "$www/big.bin" "$UST_TMP/big.out" "curl 100 MiB from ustack"
rm -f "$UST_TMP/big.out"
ust_serve_stop
grep -A3 '^tcp connections:' "$UST_SERVE_LOG" || ust_fail "--stats printed no TCP_INFO table"

# --- socat echo of 10 MiB, then 500 concurrent connections.
tcp_serve_start --tap tap0 --addr "$UST_USTACK_ADDR/24" --service echo --proto tcp --port 7 --stats
tcp_make_file "$UST_TMP/echo.in" 10
nsx timeout 60 socat -b 65536 -t 30 - "TCP:$UST_USTACK_ADDR:7" <"$UST_TMP/echo.in" >"$UST_TMP/echo.out" ||
    ust_fail "socat echo failed"
cmp -s "$UST_TMP/echo.in" "$UST_TMP/echo.out" ||
    ust_fail "tcp echo: $(stat -c %s "$UST_TMP/echo.out") of 10485760 bytes came back, not the same"
ust_log "socat: 10 MiB echoed byte for byte"

out=$(nsx timeout 120 python3 - "$UST_USTACK_ADDR" 7 500 <<'EOF' 2>&1
import asyncio, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
async def one(i, opened, all_open):
    r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 60)
    opened.append(i)
    if len(opened) == n:
        all_open.set()
    await asyncio.wait_for(all_open.wait(), 60)  # all n connections open at once
    msg = bytes((i * 7 + k) % 251 for k in range(1000 + i))
    w.write(msg)
    await w.drain()
    got = await asyncio.wait_for(r.readexactly(len(msg)), 60)
    w.close()
    await w.wait_closed()
    return got == msg
async def main():
    opened, all_open = [], asyncio.Event()
    res = await asyncio.gather(*(one(i, opened, all_open) for i in range(n)),
                               return_exceptions=True)
    ok = sum(1 for x in res if x is True)
    print(f"{ok}/{n} concurrent connections served", [repr(x) for x in res if x is not True][:3])
    sys.exit(0 if ok == n else 1)
asyncio.run(main())
EOF
) || { echo "$out"; ust_fail "not every one of 500 concurrent connections was served"; }
ust_log "$out"
ust_serve_stop
grep -qE '^ustack: tcp: 50[1-9] connections accepted' "$UST_SERVE_LOG" ||
    ust_fail "ustack serve did not count 501 accepted connections"

# --- ustack get from Linux (python3 http.server).
tcp_http_server "$www" 8000
cap2="$UST_TMP/get.pcap"
tcp_ustack_get "http://$UST_LINUX_ADDR:8000/chunked/chunky.bin" "$UST_TMP/chunky.out" --pcap "$cap2"
tcp_check_same "$www/chunky.bin" "$UST_TMP/chunky.out" "ustack get 3 MiB, chunked"
tcp_check_handshake_options "$cap2" "$UST_USTACK_ADDR" "$UST_LINUX_ADDR"
tcp_ustack_get "http://$UST_LINUX_ADDR:8000/big.bin" "$UST_TMP/big.out" --stats
tcp_check_same "$www/big.bin" "$UST_TMP/big.out" "ustack get 100 MiB from Linux"
tcp_check_pcap "$cap2"
ust_log "PASS"
