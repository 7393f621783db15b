#!/usr/bin/env bash
# Hostile peers against `ustack serve --service echo` over a TAP device, with
# raw frames crafted by scapy, inside a network namespace of its own (Linux
# 10.0.0.1 on tap0, ustack 10.0.0.2, gateway 10.0.0.1). Spoofed sources are
# in 10.99.0.0/16: ustack's answers go to the gateway (Linux in the
# namespace, which does not forward them), so nothing leaves the namespace.
#  1. SYN flood: spoofed SYNs as fast as one Python process can write them
#     to tap0 for FLOOD_SECS, then at 20,000/s (at full speed the TAP queue
#     drops most frames, legit SYNs too, before ustack sees them) until 3
#     Linux clients got in, bounded; meanwhile Linux clients connect and echo; they
#     are all served (SYN cookies: Tcp.SyncookiesSent and SyncookiesRecv go
#     up), the accept queue (ss -l Recv-Q) stays within the backlog and the
#     serve process's VmRSS grows by less than 32 MiB;
#  2. blind in-window RST, SYN and data injection (RFC 5961) at a Linux
#     client's established connection, with the right 4-tuple and sequence
#     numbers inside the window but never exact: the connection survives
#     (the echo stays byte-exact, nothing injected comes back), the
#     challenge ACKs are counted (Tcp.TCPChallengeACK) and limited to 1000
#     per second;
#  3. IP fragments: teardrop-style overlaps, tiny (8-byte) fragments and a
#     flood of never-completed datagrams: serve survives, Ip.ReasmOverlaps
#     and Ip.ReasmFails count the drops, fragmented ping (-s 4000) still
#     works and memory stays bounded;
#  4. SYNs whose TCP options have length 0, 1 or run past the header: no
#     crash, counted (Tcp.InErrs), and a Linux client is still served;
#  5. connection flood: 10,000 spoofed peers answer the cookie SYN-ACKs and
#     sit idle: serve's descriptor table fills, the accept queue stops at
#     the backlog (ss -l), the rest overflow (Tcp.ListenOverflows), VmRSS
#     stays within the bound; exact RSTs then free everything
#     (Tcp.CurrEstab 0) and Linux is served again.
# The figures (rates, memory, challenge ACKs per second) are printed with
# "figure:" in front. Every loop is bounded in count and time; the whole
# test takes about 25 s (35 s under ASan). UST_FLOOD_SECS sets the SYN
# flood's length (default 5).
# Skips (77) without root, TUN, netns, the tools, or scapy (Debian's
# python3-scapy, used through /usr/bin/python3).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
ust_init "$@"
ust_require_root
ust_require_tun
ust_require_netns
ust_require_cmds ip ping python3 timeout awk

# scapy from Debian lives in the system Python, which may not be the first
# python3 on PATH.
PY=""
for p in /usr/bin/python3 "$(command -v python3)"; do
    if [ -x "$p" ] && "$p" -c 'import scapy.all' >/dev/null 2>&1; then
        PY=$p
        break
    fi
done
[ -n "$PY" ] || ust_skip "scapy is not installed (Debian package python3-scapy)"

FLOOD_SECS=${UST_FLOOD_SECS:-5}
RSS_BOUND_KIB=$((32 * 1024))
# AddressSanitizer's redzones about double what a connection costs, and
# its quarantine (256 MiB by default) keeps freed blocks resident: a small
# quarantine keeps VmRSS meaningful.
if grep -qa __asan_init "$USTACK"; then
    RSS_BOUND_KIB=$((64 * 1024))
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
fi
ctl="$UST_TMP/serve.sock"
out="$UST_TMP/stat.txt"
prev="$UST_TMP/stat.prev"

tcp_tap_setup hostile
tcp_serve_start --tap tap0 --addr "$UST_USTACK_ADDR/24" --gw "$UST_LINUX_ADDR" \
    --service echo --proto both --port 7 --control "$ctl"
for ((i = 0; i < 50; i++)); do
    grep -q '^ustack: control socket' "$UST_SERVE_LOG" && break
    sleep 0.1
done
grep -q "^ustack: control socket $ctl" "$UST_SERVE_LOG" || ust_fail "serve did not announce its control socket"

# stat_snap: the counters now in $out, the previous ones in $prev.
stat_snap() {
    [ -f "$out" ] && cp "$out" "$prev"
    timeout 10 "$USTACK" stat -a --control "$ctl" >"$out" || ust_fail "ustack stat failed (is serve alive?)"
}
stat_of() { awk -v k="$1" '$1 == k { print $2 }' "$out"; }
# stat_delta NAME: how much NAME went up since the previous snapshot.
stat_delta() {
    local a b
    a=$(awk -v k="$1" '$1 == k { print $2 }' "$prev")
    b=$(stat_of "$1")
    echo $((${b:-0} - ${a:-0}))
}
phase() { ust_log "[${SECONDS}s] $*"; }
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$UST_SERVE_PID/status"; }
alive() { ust_serve_alive || ust_fail "ustack serve died ($1)"; }

# One legit exchange: Linux connects, echoes N bytes, byte-exact.
echo_check() {
    nsx timeout 30 "$PY" "$UST_TMP/hostile.py" echo "$1" || ust_fail "$2: the echo of a Linux client failed"
}

cat >"$UST_TMP/hostile.py" <<'PY'
# Hostile peer for test_hostile_tap.sh: every mode is bounded in packets
# and seconds. Frames go straight to tap0 through an AF_PACKET socket.
import os, random, select, socket, struct, sys, threading, time
from scapy.all import Ether, IP, TCP, UDP, ICMP, Raw, fragment, raw

USTACK, LINUX, PORT = "10.0.0.2", "10.0.0.1", 7
DEV = "tap0"
SMAC = open(f"/sys/class/net/{DEV}/address").read().strip()
DMAC = os.environ.get("UST_MAC", "")


def l2sock():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((DEV, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    return s


def spoofed(i):
    # 10.99.0.0/16 minus .0 and .255: routed via the gateway, never forwarded.
    return "10.99.%d.%d" % ((i >> 8) & 0xff, 1 + (i & 0xff) % 254)


def csum(b):
    if len(b) & 1:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def tcp_patch(frame, seq):
    """frame (Ether, 20-byte IP header, TCP) with a new sequence number and
    TCP checksum: fast enough to make thousands of scapy-built frames."""
    fb = bytearray(frame)
    fb[38:42] = struct.pack("!I", seq & 0xffffffff)
    fb[50:52] = b"\0\0"
    seg = bytes(fb[34:])
    pseudo = bytes(fb[26:34]) + struct.pack("!BBH", 0, 6, len(seg))
    fb[50:52] = struct.pack("!H", csum(pseudo + seg))
    return bytes(fb)


def syn_frames(n):
    """n distinct spoofed SYN frames: a scapy template, then fast patching
    of source address, port and ISN (and both checksums)."""
    tmpl = raw(Ether(src=SMAC, dst=DMAC) / IP(src="10.99.0.1", dst=USTACK, ttl=64) /
               TCP(sport=1024, dport=PORT, flags="S", seq=0, window=64240,
                   options=[("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]))
    eth, iph, tcph = tmpl[:14], bytearray(tmpl[14:34]), bytearray(tmpl[34:])
    dst = socket.inet_aton(USTACK)
    frames = []
    rnd = random.Random(7)
    for i in range(n):
        src = socket.inet_aton(spoofed(i))
        iph[4:6] = struct.pack("!H", i & 0xffff)
        iph[10:12] = b"\0\0"
        iph[12:16] = src
        iph[10:12] = struct.pack("!H", csum(bytes(iph)))
        tcph[0:2] = struct.pack("!H", 1024 + rnd.randrange(60000))
        tcph[4:8] = struct.pack("!I", rnd.getrandbits(32))
        tcph[16:18] = b"\0\0"
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcph))
        tcph[16:18] = struct.pack("!H", csum(pseudo + bytes(tcph)))
        frames.append(eth + bytes(iph) + bytes(tcph))
    return frames


def echo_once(n, timeout=10.0):
    data = os.urandom(n)
    t0 = time.monotonic()
    with socket.create_connection((USTACK, PORT), timeout=timeout) as s:
        t1 = time.monotonic()
        s.sendall(data)
        got = b""
        while len(got) < n:
            b = s.recv(65536)
            if not b:
                break
            got += b
        if got != data:
            raise SystemExit("echo of %d bytes: %d came back, not the same" % (n, len(got)))
    return t1 - t0


def mode_echo(n):
    echo_once(int(n))


def mode_synflood(secs, maxsecs, maxpkts, clients):
    """Spoofed SYNs as fast as this process can write them for secs seconds,
    then at 20,000 per second until 3 legit clients were served meanwhile
    (at most maxsecs seconds, maxpkts frames). A legit client's SYN
    competes with the flood for the TAP queue, so it may take several SYN
    retransmissions to get in."""
    secs, maxsecs, maxpkts, clients = float(secs), float(maxsecs), int(maxpkts), int(clients)
    frames = syn_frames(min(maxpkts, 65536))  # then cycled
    s = l2sock()
    flooding = threading.Event()
    flooding.set()
    results = []  # (ok, connect time or error, served during the flood)

    def legit():
        # Legit Linux clients during the flood: each connects and echoes.
        time.sleep(0.5)
        for _ in range(clients):
            if not flooding.is_set():
                break
            t = time.monotonic()
            try:
                ct = echo_once(1000, timeout=30)
                results.append((True, ct, flooding.is_set()))
            except Exception as e:  # noqa: BLE001
                results.append((False, repr(e), flooding.is_set()))
            time.sleep(max(0.0, 0.2 - (time.monotonic() - t)))

    t0 = time.monotonic()
    th = threading.Thread(target=legit)
    th.start()
    sent = errs = 0
    full = None  # (frames, seconds) of the full-speed part
    nf = len(frames)
    while sent < maxpkts:
        if (sent & 1023) == 0:
            el = time.monotonic() - t0
            if el >= maxsecs or (el >= secs and sum(1 for r in results if r[0] and r[2]) >= 3):
                break
            if el >= secs:
                # After secs at full speed the flood goes on at 20,000 SYN/s:
                # at full speed the TAP queue itself drops most frames,
                # legit SYNs included, before ustack can see them.
                if full is None:
                    full = (sent, el)
                time.sleep(1024 / 20000.0)
        try:
            s.send(frames[sent % nf])
            sent += 1
        except OSError:
            errs += 1
            if errs > 1000000:
                break
    flooding.clear()
    el = time.monotonic() - t0
    if full is None:
        full = (sent, el)
    th.join(60)
    ok = sum(1 for r in results if r[0])
    during = sum(1 for r in results if r[0] and r[2])
    cts = sorted(r[1] for r in results if r[0])
    print("synflood sent=%d secs=%.2f rate=%.0f send_errors=%d" % (full[0], full[1], full[0] / full[1], errs))
    print("synflood then %d more at 20000/s, %.2f s in all" % (sent - full[0], el))
    print("legit ok=%d of=%d during_flood=%d connect_max=%.3f connect_median=%.3f"
          % (ok, len(results), during, cts[-1] if cts else -1, cts[len(cts) // 2] if cts else -1))
    for r in results:
        if not r[0]:
            print("legit failure:", r[1])
    sys.exit(0 if ok == len(results) and during > 0 else 1)


class Sniffer:
    """Frames of one TCP connection on tap0, seen from Linux's side."""

    def __init__(self):
        self.s = l2sock()
        self.s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE: keep every frame
        self.s.setblocking(False)

    def drain(self, lport, secs, only_ustack=False):
        """TCP segments between lport and port 7 for secs seconds; the
        frames are filtered by their bytes first (scapy parses only those)."""
        segs = []
        want = (struct.pack("!HH", lport, PORT), struct.pack("!HH", PORT, lport))
        us = socket.inet_aton(USTACK)
        end = time.monotonic() + secs
        while time.monotonic() < end:
            r, _, _ = select.select([self.s], [], [], max(0.0, end - time.monotonic()))
            if not r:
                break
            while True:
                try:
                    b = self.s.recv(65536)
                except BlockingIOError:
                    break
                if b[12:14] != b"\x08\x00" or b[23] != 6 or b[34:38] not in want:
                    continue
                if only_ustack and b[26:30] != us:
                    continue
                segs.append(Ether(b))
        return segs


def stat(name):
    """A counter of the running serve (ustack stat through its control socket)."""
    import subprocess
    out = subprocess.run([os.environ["USTACK"], "stat", "-a", "--control", os.environ["UST_CTL"]],
                         capture_output=True, text=True, timeout=10, check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == name:
            return int(f[1])
    raise SystemExit("no counter " + name)


def mode_inject(count, secs):
    count, secs = int(count), float(secs)
    sn = Sniffer()
    c = socket.create_connection((USTACK, PORT), timeout=10)
    lport = c.getsockname()[1]
    first = os.urandom(1000)
    c.sendall(first)
    got = b""
    while len(got) < len(first):
        got += c.recv(65536)
    assert got == first, "first echo differs"
    segs = sn.drain(lport, 0.3)
    to_u = [p for p in segs if p[IP].src == LINUX and p[TCP].dport == PORT]
    from_u = [p for p in segs if p[IP].src == USTACK and p[TCP].sport == PORT]
    # ustack's RCV.NXT is the client's SND.NXT; its SND.NXT is the last ACK
    # the client sent. The window: what ustack advertised, unscaled (a lower
    # bound of the real one).
    last_c = to_u[-1][TCP]
    rcv_nxt = (last_c.seq + len(last_c.payload)) & 0xffffffff
    snd_nxt = last_c.ack
    wnd = max([1024] + [p[TCP].window for p in from_u])
    print("inject: 4-tuple 10.0.0.1:%d -> 10.0.0.2:7, ustack RCV.NXT=%d SND.NXT=%d window>=%d"
          % (lport, rcv_nxt, snd_nxt, wnd))
    s = l2sock()
    rnd = random.Random(5)
    for kind in ("rst", "syn", "data-old-ack", "data-future-ack"):
        # The RST burst lasts longer: it gives the challenge-ACK rate.
        n, d = (count * 2, secs * 2) if kind == "rst" else (count, secs)
        if kind == "rst":
            t = TCP(sport=lport, dport=PORT, flags="R")
        elif kind == "syn":
            t = TCP(sport=lport, dport=PORT, flags="S")
        else:
            # Data with an ACK far behind SND.UNA (RFC 5961 5.2: challenge
            # ACK) or beyond SND.NXT (RFC 9293: ACK, drop); never acceptable.
            ack = snd_nxt - (1 << 30) if kind == "data-old-ack" else snd_nxt + (1 << 20)
            t = TCP(sport=lport, dport=PORT, flags="PA", ack=ack & 0xffffffff,
                    window=500) / Raw(b"INJECTED!" * 4)
        tmpl = raw(Ether(src=SMAC, dst=DMAC) / IP(src=LINUX, dst=USTACK) / t)
        # Sequence numbers in the window, never exactly RCV.NXT.
        frames = [tcp_patch(tmpl, rcv_nxt + 1 + rnd.randrange(wnd - 2)) for _ in range(n)]
        sn.drain(lport, 0.05)
        c0 = stat("Tcp.TCPChallengeACK")
        # Paced in slices of 100 frames so that the TAP queue (1000 frames)
        # never overflows: every one reaches ustack.
        t0 = time.monotonic()
        for k in range(0, n, 100):
            for f in frames[k:k + 100]:
                s.send(f)
            delay = t0 + d * (k + 100) / n - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        el = time.monotonic() - t0
        segs = sn.drain(lport, 0.3, only_ustack=True)
        chal = stat("Tcp.TCPChallengeACK") - c0
        acks = [p for p in segs if "R" not in p[TCP].flags]
        rsts = [p for p in segs if "R" in p[TCP].flags]
        print("inject %s: %d sent in %.2f s (%.0f/s); ustack sent %d ACKs, "
              "Tcp.TCPChallengeACK +%d (%.0f/s over the burst), %d RSTs"
              % (kind, n, el, n / el, len(acks), chal, chal / el, len(rsts)))
        if rsts:
            raise SystemExit("ustack answered an injected %s with a RST" % kind)
        if kind == "data-future-ack":
            if chal != 0:
                raise SystemExit("an ACK beyond SND.NXT drew a challenge ACK")
        elif not 0 < chal <= 1000 * (int(el) + 2):
            raise SystemExit("%s: %d challenge ACKs for %d segments in %.2f s: not rate limited"
                             % (kind, chal, n, el))
    # The connection survives: a fresh 64 KiB echo is byte-exact and nothing
    # injected ever comes back.
    data = os.urandom(65536)
    c.sendall(data)
    got = b""
    c.settimeout(10)
    while len(got) < len(data):
        b = c.recv(65536)
        if not b:
            raise SystemExit("the connection was closed after the injection")
        got += b
    c.settimeout(0.3)
    extra = b""
    try:
        extra = c.recv(65536)
    except socket.timeout:
        pass
    if got != data or extra:
        raise SystemExit("echo after injection: %d bytes, same=%s, %d extra" % (len(got), got == data, len(extra)))
    c.close()
    print("inject: the connection survived: a 64 KiB echo is byte-exact after %d blind segments" % (4 * count))


def mode_frag(flood):
    flood = int(flood)
    s = l2sock()
    eth = Ether(src=SMAC, dst=DMAC)
    n = 0
    # Teardrop: the second fragment starts inside the first and the
    # datagram's end is shorter than the first fragment claims.
    for i in range(200):
        src = spoofed(40000 + i)
        ip = IP(src=src, dst=USTACK, id=0x7000 + i, proto=17)
        s.send(raw(eth / IP(src=src, dst=USTACK, id=ip.id, proto=17, flags="MF", frag=0) /
                   Raw(struct.pack("!HHHH", 5000, PORT, 36, 0) + b"A" * 28)))
        s.send(raw(eth / IP(src=src, dst=USTACK, id=ip.id, proto=17, frag=3) / Raw(b"B" * 8)))
        # Overlap with different bytes, then the same with a longer last piece.
        s.send(raw(eth / IP(src=src, dst=USTACK, id=ip.id + 0x100, proto=17, flags="MF", frag=0) /
                   Raw(struct.pack("!HHHH", 5000, PORT, 56, 0) + b"C" * 40)))
        s.send(raw(eth / IP(src=src, dst=USTACK, id=ip.id + 0x100, proto=17, frag=2) / Raw(b"D" * 40)))
        n += 4
    print("frag: %d teardrop/overlap fragments sent" % n)
    # Tiny fragments: ICMP echo requests cut into 8-byte fragments (complete
    # and valid, so ustack may answer them), and SYNs whose first fragment
    # holds only the ports (RFC 1858).
    tiny = 0
    for i in range(20):
        p = IP(src=LINUX, dst=USTACK, id=0x5000 + i) / ICMP(id=0x4242, seq=i) / Raw(b"tiny!" * 20)
        for f in fragment(p, fragsize=8):
            s.send(raw(eth / f))
            tiny += 1
        p = IP(src=spoofed(50000 + i), dst=USTACK, id=0x5100 + i) / TCP(sport=2000 + i, dport=PORT, flags="S")
        for f in fragment(p, fragsize=8):
            s.send(raw(eth / f))
            tiny += 1
    print("frag: %d tiny fragments sent" % tiny)
    # Never-completed datagrams: first fragments of 1480 bytes from many
    # sources and IDs; their ends never come.
    tmpl = raw(eth / IP(src="10.99.0.1", dst=USTACK, proto=17, flags="MF", frag=0) / Raw(b"\xee" * 1480))
    frames = []
    for i in range(flood):
        fb = bytearray(tmpl)
        fb[18:20] = struct.pack("!H", i & 0xffff)
        fb[26:30] = socket.inet_aton(spoofed(i))
        fb[24:26] = b"\0\0"
        fb[24:26] = struct.pack("!H", csum(bytes(fb[14:34])))
        frames.append(bytes(fb))
    t0 = time.monotonic()
    for f in frames:
        s.send(f)
    el = time.monotonic() - t0
    print("frag: %d never-completed datagrams (%d KiB) sent in %.2f s" % (flood, flood * 1514 // 1024, el))


def mode_options(count):
    count = int(count)
    s = l2sock()
    s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
    s.setblocking(False)
    bad = [
        b"\x02\x00\x05\xb4",              # MSS kind, length 0
        b"\x02\x01\x05\xb4",              # MSS kind, length 1
        b"\x08\x00" + b"\0" * 10,        # timestamps, length 0
        b"\x99\x00\x01\x01",              # unknown kind, length 0
        b"\x99\x01\x01\x01",              # unknown kind, length 1
        b"\x02\x28\x05\xb4",              # MSS, length 40: past the header
        b"\x03\xff\x07\x01",              # window scale, length 255
        b"\x01\x01\x01\x04",              # SACK-permitted kind with no length byte
        b"\x05\x22" + b"\0" * 6,          # SACK with length 34 in 8 bytes
    ]
    n = 0
    for i in range(count):
        o = bad[i % len(bad)]
        o = o + b"\0" * (-len(o) % 4)
        src = spoofed(60000 + i)
        t = TCP(sport=3000 + i, dport=PORT, flags="S", seq=i * 7919, dataofs=5 + len(o) // 4)
        f = raw(Ether(src=SMAC, dst=DMAC) / IP(src=src, dst=USTACK) / t / Raw(o))
        # scapy put the option bytes as payload: recompute the checksum with
        # them inside the header (dataofs covers them).
        fb = bytearray(f)
        fb[14 + 20 + 16:14 + 20 + 18] = b"\0\0"
        seg = bytes(fb[34:])
        pseudo = socket.inet_aton(src) + socket.inet_aton(USTACK) + struct.pack("!BBH", 0, 6, len(seg))
        fb[50:52] = struct.pack("!H", csum(pseudo + seg))
        s.send(bytes(fb))
        n += 1
    # Is any of them answered? ustack's answers to 10.99.x.y go to the
    # gateway's MAC, so they show up on Linux's side of tap0.
    time.sleep(0.3)
    ours = {(socket.inet_aton(spoofed(60000 + i)), 3000 + i) for i in range(count)}
    answered = 0
    while True:
        try:
            b = s.recv(2048)
        except BlockingIOError:
            break
        if (b[12:14] == b"\x08\x00" and b[23] == 6 and b[26:30] == socket.inet_aton(USTACK)
                and (b[30:34], struct.unpack("!H", b[36:38])[0]) in ours):
            answered += 1
    print("options: %d SYNs with zero, one-byte and overlong option lengths sent, %d answered"
          % (n, answered))
    if answered:
        raise SystemExit("ustack answered a SYN with malformed options")


def mode_acceptflood(n, secs):
    """Spoofed peers that complete the handshake (they answer the cookie
    SYN-ACKs, which reach Linux's side of tap0 on their way to the gateway)
    and then sit idle: serve accepts until its descriptor table is full,
    then the accept queue fills up to the backlog and the rest overflow.
    Afterwards an exact RST for each one (they sent no data, so RCV.NXT is
    their ISN + 1) frees everything."""
    import subprocess
    n, secs = int(n), float(secs)
    s = l2sock()
    s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
    s.setblocking(False)
    dst = socket.inet_aton(USTACK)
    syn = raw(Ether(src=SMAC, dst=DMAC) / IP(src="10.98.0.1", dst=USTACK) /
              TCP(sport=1024, dport=PORT, flags="S", window=64240, options=[("MSS", 1460)]))
    ack = raw(Ether(src=SMAC, dst=DMAC) / IP(src="10.98.0.1", dst=USTACK) /
              TCP(sport=1024, dport=PORT, flags="A", window=64240))
    rst = raw(Ether(src=SMAC, dst=DMAC) / IP(src="10.98.0.1", dst=USTACK) /
              TCP(sport=1024, dport=PORT, flags="R"))

    def peer(i):
        return socket.inet_aton("10.98.%d.%d" % (i >> 8, i & 0xff)), 20000 + (i % 40000)

    def frame(tmpl, i, seq, ackno=0):
        fb = bytearray(tmpl)
        src, sport = peer(i)
        fb[26:30] = src
        fb[24:26] = b"\0\0"
        fb[24:26] = struct.pack("!H", csum(bytes(fb[14:34])))
        fb[34:36] = struct.pack("!H", sport)
        fb[38:42] = struct.pack("!I", seq & 0xffffffff)
        fb[42:46] = struct.pack("!I", ackno & 0xffffffff)
        fb[50:52] = b"\0\0"
        seg = bytes(fb[34:])
        fb[50:52] = struct.pack("!H", csum(src + dst + struct.pack("!BBH", 0, 6, len(seg)) + seg))
        return bytes(fb)

    index = {peer(i): i for i in range(n)}
    done = set()

    def answer():
        while True:
            try:
                b = s.recv(2048)
            except BlockingIOError:
                return
            # SYN-ACK from ustack's port 7 to one of our peers.
            if b[12:14] != b"\x08\x00" or b[23] != 6 or b[26:30] != dst or b[34:36] != b"\x00\x07":
                continue
            if b[47] & 0x12 != 0x12:
                continue
            i = index.get((b[30:34], struct.unpack("!H", b[36:38])[0]))
            if i is None or i in done:
                continue
            their = struct.unpack("!I", b[38:42])[0]
            s.send(frame(ack, i, i * 1000 + 1, their + 1))
            done.add(i)

    # SYNs at 20,000/s, answering the SYN-ACKs as they come. Like real
    # clients, a peer whose SYN got no answer sends it again (the TAP queue
    # drops SYNs when ustack reads more slowly than they come, as a
    # sanitizer build does), until every peer is in or `secs` have passed.
    t0 = time.monotonic()
    pending = list(range(n))
    while pending and time.monotonic() - t0 < secs:
        for k in range(0, len(pending), 100):
            for i in pending[k:k + 100]:
                if i not in done:
                    s.send(frame(syn, i, i * 1000))
            answer()
            time.sleep(100 / 20000.0)
            if time.monotonic() - t0 > secs:
                break
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            answer()
            time.sleep(0.01)
        pending = [i for i in pending if i not in done]
    el = time.monotonic() - t0
    print("acceptflood: %d spoofed peers completed the handshake in %.2f s" % (len(done), el))
    time.sleep(0.5)
    ss = subprocess.run([os.environ["USTACK"], "ss", "-l", "--control", os.environ["UST_CTL"]],
                        capture_output=True, text=True, timeout=10, check=True).stdout
    q = [l.split() for l in ss.splitlines() if l.startswith("LISTEN") and l.split()[3].endswith(":7")]
    rss = [l.split()[1] for l in open("/proc/%s/status" % os.environ["SERVE_PID"]) if l.startswith("VmRSS:")]
    print("acceptflood: accept queue %s of %s, serve VmRSS %s KiB, Tcp.CurrEstab %d, ListenOverflows %d"
          % (q[0][1], q[0][2], rss[0], stat("Tcp.CurrEstab"), stat("Tcp.ListenOverflows")))
    # Exact RSTs (RCV.NXT = ISN + 1) for all of them, paced; another round
    # (at most 3) if the TAP queue dropped some while ustack was busy.
    def tap_drops():
        return int(open("/sys/class/net/%s/statistics/tx_dropped" % DEV).read())

    for rnd in range(3):
        d0 = tap_drops()
        t0 = time.monotonic()
        for k, i in enumerate(sorted(done)):
            s.send(frame(rst, i, i * 1000 + 1))
            if k % 100 == 99:
                delay = t0 + (k + 1) / 20000.0 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        time.sleep(0.5)
        left = stat("Tcp.CurrEstab")
        print("acceptflood: %d RSTs sent, %d dropped by the TAP queue, Tcp.CurrEstab %d"
              % (len(done), tap_drops() - d0, left))
        if left == 0:
            break


if __name__ == "__main__":
    {"echo": mode_echo, "synflood": mode_synflood, "inject": mode_inject,
     "frag": mode_frag, "options": mode_options, "acceptflood": mode_acceptflood}[sys.argv[1]](*sys.argv[2:])
PY

# ustack's MAC, from Linux's neighbour table after a ping.
ust_check_ping "$UST_USTACK_ADDR" 3 0.2 56
UST_MAC=$(nsx ip neigh show "$UST_USTACK_ADDR" dev tap0 | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
[ -n "$UST_MAC" ] || ust_fail "no neighbour entry for ustack"
export UST_MAC
echo_check 1000 "before the attacks"
stat_snap
rss0=$(rss_kib)
ust_log "figure: serve VmRSS before the attacks: $rss0 KiB (growth allowed: $RSS_BOUND_KIB KiB)"

# --- 1. SYN flood with legit clients.
phase "SYN flood for $FLOOD_SECS s (up to $((FLOOD_SECS * 3)) s until 3 legit clients got in), Linux clients meanwhile"
flog="$UST_TMP/synflood.log"
UST_LOGS+=("$flog")
tx0=$(nsx cat /sys/class/net/tap0/statistics/tx_dropped)
nsx timeout $((FLOOD_SECS * 3 + 60)) "$PY" "$UST_TMP/hostile.py" synflood "$FLOOD_SECS" $((FLOOD_SECS * 3)) 50000000 15 >"$flog" 2>&1 ||
    { cat "$flog"; ust_fail "SYN flood: not every legit client was served during the flood"; }
cat "$flog"
tx1=$(nsx cat /sys/class/net/tap0/statistics/tx_dropped)
alive "SYN flood"
timeout 10 "$USTACK" ss -l --control "$ctl" >"$UST_TMP/ss.txt" || ust_fail "ustack ss -l failed"
stat_snap
rss1=$(rss_kib)
sent=$(awk '/^synflood/ { sub("sent=", "", $2); print $2 }' "$flog")
secs=$(awk '/^synflood/ { sub("secs=", "", $3); print $3 }' "$flog")
insegs=$(stat_delta Tcp.InSegs)
ust_log "figure: SYN flood: $sent spoofed SYNs in $secs s ($(awk -v n="$sent" -v s="$secs" 'BEGIN { printf "%.0f", n / s }') SYN/s written to tap0)," \
    "ustack took $insegs segments ($(awk -v n="$insegs" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')/s), the TAP queue dropped $((tx1 - tx0))"
ust_log "figure: SYN flood: Tcp.SyncookiesSent +$(stat_delta Tcp.SyncookiesSent), SyncookiesRecv +$(stat_delta Tcp.SyncookiesRecv)," \
    "ListenDrops +$(stat_delta Tcp.ListenDrops), PassiveOpens +$(stat_delta Tcp.PassiveOpens)"
ust_log "figure: serve VmRSS $rss0 KiB before the flood, $rss1 KiB after (+$((rss1 - rss0)) KiB)"
[ "$(stat_delta Tcp.SyncookiesSent)" -gt 0 ] || ust_fail "SYN flood: no SYN cookie was sent"
[ "$(stat_delta Tcp.SyncookiesRecv)" -gt 0 ] || ust_fail "SYN flood: no legit client came in through a SYN cookie"
[ $((rss1 - rss0)) -lt "$RSS_BOUND_KIB" ] || ust_fail "SYN flood: VmRSS grew by $((rss1 - rss0)) KiB"
cat "$UST_TMP/ss.txt"
read -r q backlog < <(awk '$1 == "LISTEN" && $4 ~ /:7$/ { print $2, $3 }' "$UST_TMP/ss.txt")
if [ -z "${q:-}" ] || [ "$q" -gt "$backlog" ]; then
    ust_fail "accept queue '${q:-}' beyond the backlog '${backlog:-}'"
fi
ust_log "accept queue after the flood: $q of $backlog"
echo_check 100000 "after the SYN flood"

# --- 2. Blind in-window injection at an established connection.
phase "blind in-window injection"
ilog="$UST_TMP/inject.log"
UST_LOGS+=("$ilog")
stat_snap
# 8000 of each kind in 0.8 s (16000 RSTs in 1.6 s), 10,000/s: at most 1000
# challenge ACKs per calendar second the burst touches.
UST_CTL=$ctl USTACK=$USTACK nsx timeout 60 "$PY" "$UST_TMP/hostile.py" inject 8000 0.8 >"$ilog" 2>&1 ||
    { cat "$ilog"; ust_fail "blind injection"; }
cat "$ilog"
alive "injection"
stat_snap
chal=$(stat_delta Tcp.TCPChallengeACK)
ust_log "figure: blind injection: Tcp.TCPChallengeACK +$chal for 40000 segments (16000 RST, 8000 SYN," \
    "8000 data with an old ACK, 8000 data with an ACK beyond SND.NXT), EstabResets +$(stat_delta Tcp.EstabResets)"
[ "$chal" -gt 0 ] || ust_fail "no challenge ACK counted"
[ "$(stat_delta Tcp.EstabResets)" -eq 0 ] || ust_fail "an injected segment reset a connection"
read -r rn rs rc < <(sed -n 's/^inject rst: \([0-9]*\) sent in \([0-9.]*\) s.*Tcp.TCPChallengeACK +\([0-9]*\).*/\1 \2 \3/p' "$ilog")
ust_log "figure: challenge ACKs for $rn in-window RSTs in $rs s (10,000/s): $rc," \
    "$(awk -v c="$rc" -v s="$rs" 'BEGIN { printf "%.0f", c / s }')/s on average (limit: 1000 per calendar second the burst touches)"

# --- 3. IP fragment attacks.
phase "IP fragment attacks"
glog="$UST_TMP/frag.log"
UST_LOGS+=("$glog")
stat_snap
nsx timeout 60 "$PY" "$UST_TMP/hostile.py" frag 20000 >"$glog" 2>&1 || { cat "$glog"; ust_fail "fragment attack script"; }
cat "$glog"
sleep 0.5
alive "fragments"
stat_snap
rss2=$(rss_kib)
ust_log "figure: fragments: Ip.ReasmOverlaps +$(stat_delta Ip.ReasmOverlaps), Ip.ReasmFails +$(stat_delta Ip.ReasmFails)," \
    "Ip.ReasmOKs +$(stat_delta Ip.ReasmOKs), Ip.ReasmReqds +$(stat_delta Ip.ReasmReqds); VmRSS $rss2 KiB (+$((rss2 - rss0)) KiB since the start)"
[ "$(stat_delta Ip.ReasmOverlaps)" -gt 0 ] || ust_fail "no overlapping fragment counted"
[ "$(stat_delta Ip.ReasmFails)" -ge 200 ] || ust_fail "Ip.ReasmFails +$(stat_delta Ip.ReasmFails): the drops are not counted"
[ $((rss2 - rss0)) -lt "$RSS_BOUND_KIB" ] || ust_fail "fragments: VmRSS grew by $((rss2 - rss0)) KiB"
ust_check_ping "$UST_USTACK_ADDR" 5 0.2 4000

# --- 4. SYNs with malformed TCP options.
phase "malformed TCP options"
olog="$UST_TMP/options.log"
stat_snap
nsx timeout 60 "$PY" "$UST_TMP/hostile.py" options 900 >"$olog" 2>&1 || { cat "$olog"; ust_fail "options script"; }
cat "$olog"
sleep 0.3
alive "malformed options"
stat_snap
ust_log "figure: malformed options: Tcp.InErrs +$(stat_delta Tcp.InErrs) for 900 SYNs"
[ "$(stat_delta Tcp.InErrs)" -ge 800 ] || ust_fail "malformed options: Tcp.InErrs +$(stat_delta Tcp.InErrs), not counted as errors"
echo_check 10000 "after the malformed options"

# --- 5. Spoofed peers that complete the handshake and sit idle.
phase "connection flood: 10000 spoofed peers answer the cookie SYN-ACKs"
alog="$UST_TMP/acceptflood.log"
UST_LOGS+=("$alog")
stat_snap
UST_CTL=$ctl USTACK=$USTACK SERVE_PID=$UST_SERVE_PID nsx timeout 60 "$PY" "$UST_TMP/hostile.py" acceptflood 10000 5 >"$alog" 2>&1 ||
    { cat "$alog"; ust_fail "connection flood script"; }
cat "$alog"
alive "connection flood"
stat_snap
read -r q backlog < <(sed -n 's/^acceptflood: accept queue \([0-9]*\) of \([0-9]*\),.*/\1 \2/p' "$alog")
ust_log "figure: connection flood: accept queue $q of $backlog, Tcp.ListenOverflows +$(stat_delta Tcp.ListenOverflows)," \
    "SyncookiesRecv +$(stat_delta Tcp.SyncookiesRecv), $(grep -o 'serve VmRSS [0-9]* KiB' "$alog") (+$(($(grep -o 'serve VmRSS [0-9]*' "$alog" | awk '{ print $3 }') - rss0)) KiB since the start)"
if [ -z "${q:-}" ] || [ "$q" -gt "$backlog" ]; then
    ust_fail "connection flood: accept queue '${q:-}' beyond the backlog '${backlog:-}'"
fi
[ "$(stat_delta Tcp.ListenOverflows)" -gt 0 ] || ust_fail "connection flood: the accept queue never overflowed"
rssa=$(grep -o 'serve VmRSS [0-9]*' "$alog" | awk '{ print $3 }')
[ $((rssa - rss0)) -lt "$RSS_BOUND_KIB" ] || ust_fail "connection flood: VmRSS grew by $((rssa - rss0)) KiB"
# Once the RSTs have freed the descriptors, Linux is served again.
for ((i = 0; i < 20; i++)); do
    nsx timeout 10 "$PY" "$UST_TMP/hostile.py" echo 1000 2>/dev/null && break
    sleep 0.5
done
echo_check 10000 "after the connection flood"
for ((i = 0; i < 20; i++)); do
    stat_snap
    [ "$(stat_of Tcp.CurrEstab)" -eq 0 ] && break
    sleep 0.2
done
ust_log "after the RSTs: Tcp.CurrEstab $(stat_of Tcp.CurrEstab)"
if [ "$(stat_of Tcp.CurrEstab)" -ne 0 ]; then
    timeout 10 "$USTACK" ss -a --control "$ctl" | head -n 20 || true
    ust_fail "connection flood: connections left after the RSTs"
fi

rss3=$(rss_kib)
ust_log "figure: serve VmRSS at the end: $rss3 KiB (+$((rss3 - rss0)) KiB since the start)"
[ $((rss3 - rss0)) -lt "$RSS_BOUND_KIB" ] || ust_fail "VmRSS grew by $((rss3 - rss0)) KiB"
ust_serve_stop
phase "PASS"
