#!/usr/bin/env bash
# `ustack ss` and `ustack stat` against a running `ustack serve`, inside a
# network namespace of its own (Linux 10.0.0.1 on tap0, ustack 10.0.0.2):
#  - three Linux clients (Python) hold connections open to the echo service,
#    one having sent 1000 bytes;
#  - `ustack ss` lists exactly those three as ESTAB with their Linux ports,
#    `ss -l` the listener on port 7, `ss -i` their TCP_INFO (rtt, cwnd, mss);
#  - `ustack stat` shows Tcp.PassiveOpens 3, Tcp.CurrEstab 3 and segments in
#    and out; after the clients close, ss lists no connection and stat shows
#    CurrEstab 0;
#  - without a running serve, both fail with a clear message.
# Skips (77) without root, TUN, netns or the tools.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
ust_init "$@"
ust_require_root
ust_require_tun
ust_require_netns
ust_require_cmds ip python3 timeout

ctl="$UST_TMP/serve.sock"
out="$UST_TMP/out.txt"

# No serve yet: a clear error, not a hang.
if timeout 10 "$USTACK" ss --control "$ctl" >"$out" 2>&1; then
    ust_fail "ustack ss succeeded without a serve process"
fi
grep -q "cannot reach ustack serve" "$out" || { cat "$out"; ust_fail "ustack ss: unclear error"; }

tcp_tap_setup ss
tcp_serve_start --tap tap0 --addr "$UST_USTACK_ADDR/24" --service echo --proto tcp --control "$ctl"
for ((i = 0; i < 50; i++)); do
    grep -q '^ustack: control socket' "$UST_SERVE_LOG" && break
    sleep 0.1
done
grep -q "^ustack: control socket $ctl" "$UST_SERVE_LOG" || ust_fail "serve did not announce its control socket"

# Three clients: connect, the first sends 1000 bytes and reads the echo;
# their local ports go to ports.txt; they hold the connections until
# release.txt exists.
cat >"$UST_TMP/clients.py" <<'PY'
import os, socket, sys, time
d = sys.argv[1]
socks = []
for i in range(3):
    s = socket.create_connection(("10.0.0.2", 7), timeout=10)
    socks.append(s)
socks[0].sendall(b"x" * 1000)
got = 0
while got < 1000:
    got += len(socks[0].recv(4096))
with open(os.path.join(d, "ports.tmp"), "w") as f:
    f.write(" ".join(str(s.getsockname()[1]) for s in socks) + "\n")
os.rename(os.path.join(d, "ports.tmp"), os.path.join(d, "ports.txt"))
for _ in range(300):
    if os.path.exists(os.path.join(d, "release.txt")):
        break
    time.sleep(0.1)
for s in socks:
    s.close()
PY
nsx python3 "$UST_TMP/clients.py" "$UST_TMP" &
clients=$!
UST_PIDS+=("$clients")
for ((i = 0; i < 100; i++)); do
    [ -f "$UST_TMP/ports.txt" ] && break
    sleep 0.1
done
[ -f "$UST_TMP/ports.txt" ] || ust_fail "the Linux clients did not connect"
read -r -a ports <"$UST_TMP/ports.txt"

timeout 10 "$USTACK" ss --control "$ctl" >"$out" || ust_fail "ustack ss failed"
cat "$out"
head -n 1 "$out" | grep -q '^State *Recv-Q *Send-Q *Local Address:Port *Peer Address:Port' ||
    ust_fail "ss: no header line"
n=$(grep -c '^ESTAB ' "$out" || true)
[ "$n" -eq 3 ] || ust_fail "ss: $n ESTAB lines, not 3"
for p in "${ports[@]}"; do
    grep -Eq "^ESTAB +0 +0 +10\.0\.0\.2:7 +10\.0\.0\.1:$p *\$" "$out" ||
        ust_fail "ss: no ESTAB line for the client at 10.0.0.1:$p"
done
grep -q LISTEN "$out" && ust_fail "ss without -l/-a lists the listener"

timeout 10 "$USTACK" ss -l --control "$ctl" >"$out" || ust_fail "ustack ss -l failed"
cat "$out"
grep -Eq '^LISTEN +0 +[0-9]+ +10\.0\.0\.2:7 +0\.0\.0\.0:\*' "$out" || ust_fail "ss -l: no listener on port 7"
grep -q '^ESTAB' "$out" && ust_fail "ss -l lists connections"

timeout 10 "$USTACK" ss -tin --control "$ctl" >"$out" || ust_fail "ustack ss -tin failed"
cat "$out"
n=$(grep -Ec $'^\t cubic ts sack wscale:[0-9]+,[0-9]+ rto:[0-9]+ rtt:[0-9.]+/[0-9.]+ mss:1448 cwnd:[0-9]+ ' "$out" || true)
[ "$n" -eq 3 ] || ust_fail "ss -i: $n TCP_INFO lines with cubic, options, rtt, mss 1448, not 3"

timeout 10 "$USTACK" stat --control "$ctl" >"$out" || ust_fail "ustack stat failed"
cat "$out"
stat_of() { awk -v k="$1" '$1 == k { print $2 }' "$out"; }
[ "$(stat_of Tcp.PassiveOpens)" = 3 ] || ust_fail "stat: Tcp.PassiveOpens is '$(stat_of Tcp.PassiveOpens)', not 3"
[ "$(stat_of Tcp.CurrEstab)" = 3 ] || ust_fail "stat: Tcp.CurrEstab is '$(stat_of Tcp.CurrEstab)', not 3"
[ "$(stat_of Tcp.InSegs)" -ge 7 ] || ust_fail "stat: Tcp.InSegs is '$(stat_of Tcp.InSegs)'"
[ "$(stat_of Tcp.OutSegs)" -ge 4 ] || ust_fail "stat: Tcp.OutSegs is '$(stat_of Tcp.OutSegs)'"
timeout 10 "$USTACK" stat -a --control "$ctl" >"$out" || ust_fail "ustack stat -a failed"
[ "$(stat_of Tcp.EstabResets)" = 0 ] || ust_fail "stat -a: no zero Tcp.EstabResets line"

# The clients close: the connections go (Linux closes first, so ustack's
# side passes CLOSE-WAIT and LAST-ACK to CLOSED, with no TIME-WAIT).
touch "$UST_TMP/release.txt"
wait "$clients" || ust_fail "the Linux clients failed"
for ((i = 0; i < 50; i++)); do
    timeout 10 "$USTACK" ss -a --control "$ctl" >"$out" || ust_fail "ustack ss -a failed"
    grep -q '^ESTAB\|^CLOSE-WAIT\|^LAST-ACK' "$out" || break
    sleep 0.1
done
cat "$out"
grep -q '^ESTAB\|^CLOSE-WAIT\|^LAST-ACK' "$out" && ust_fail "ss: connections left after the clients closed"
timeout 10 "$USTACK" stat -a --control "$ctl" >"$out" || ust_fail "ustack stat failed"
[ "$(stat_of Tcp.CurrEstab)" = 0 ] || ust_fail "stat: Tcp.CurrEstab is '$(stat_of Tcp.CurrEstab)' after the close"
ust_serve_stop
[ -e "$ctl" ] && ust_fail "serve left its control socket behind"
ust_log "ustack ss and ustack stat show the connections and counters the test made"
