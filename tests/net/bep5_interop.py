#!/usr/bin/python3
"""Interoperability of `p2plab node --protocol kademlia` (BEP 5) with real BitTorrent clients.

  /usr/bin/python3 tests/net/bep5_interop.py libtorrent|aria2 PATH/TO/p2plab

libtorrent: a p2plab node A; two libtorrent sessions (python3-libtorrent) bootstrap from A; a
p2plab node B joins the DHT through libtorrent session 1. Session 1 starts a magnet download,
so libtorrent announces itself (get_peers, then announce_peer with the tokens); B's iterative
get_peers must find session 1's address, told by a libtorrent node. Then B announces a peer (port
7777) with the tokens it was given: a libtorrent node must accept it (libtorrent reports the
incoming announce), and session 2's dht_get_peers must find 127.0.0.1:7777.

aria2: a p2plab node A is aria2c's only DHT entry point; aria2 must ping A, answer A's ping (A
admits it to its routing table), then get_peers and announce_peer for its magnet's info-hash (A
stores aria2's address). A p2plab node B joins through aria2 (aria2 answers B's find_node with A).
aria2 is stopped (it saves its routing table) and started again: it looks up its own id with
find_node at A.

Everything stays on 127.0.0.1; every process started is ended by its PID (and dies with this
script: PR_SET_PDEATHSIG); every wait has a deadline. Exit 0: all checks passed; 1: a check
failed (named on stdout); 77: the client is not installed (tools/install-deps.sh installs it).
The figures (message counts, times) are printed as one JSON line starting with "figures:".
"""
import ctypes
import hashlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
LOOPBACK = "127.0.0.1"
failures = []
figures = {}
_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent():
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def sha1_hex(text):
    return hashlib.sha1(text.encode()).hexdigest()


def free_port(kind):
    """A port the system picks for 127.0.0.1 (released at once: the client binds it next)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


class Node:
    """A `p2plab node --protocol kademlia` process driven through its console (JSON lines)."""

    def __init__(self, binary, name, join=None):
        self.name = name
        args = [binary, "node", "--protocol", "kademlia", "--listen", LOOPBACK + ":0", "--json",
                "--rpc-timeout-ms", "1000"]
        if join:
            args += ["--join", "%s:%d" % (LOOPBACK, join)]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        self.buffer = b""
        self.lines = []
        hello = self.wait(lambda j: j.get("event") == "listening", 5)
        if hello is None:
            self.stop()
            raise RuntimeError("%s did not start: %s" % (name, self.tail()))
        self.port = hello["port"]
        self.id = hello["id"]

    def wait(self, want, timeout):
        """The next JSON line for which want(j) holds, within timeout seconds, or None."""
        end = time.monotonic() + timeout
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                text = line.decode(errors="replace")
                self.lines = (self.lines + [text])[-50:]
                try:
                    j = json.loads(text)
                except ValueError:
                    continue
                if isinstance(j, dict) and want(j):
                    return j
            left = end - time.monotonic()
            if left <= 0 or self.proc.stdout is None:
                return None
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    return None
                self.buffer += chunk

    def ask(self, command, timeout=10):
        op = command.split()[0]
        op = "announce" if op == "announce" else op
        self.proc.stdin.write((command + "\n").encode())
        self.proc.stdin.flush()
        return self.wait(lambda j: j.get("op") == op, timeout)

    def state(self):
        answer = self.ask("state", 5)
        return answer["state"] if answer else {}

    def tail(self):
        return " | ".join(self.lines[-5:])

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def client_counts(state, client):
    return state.get("clients", {}).get(client, {})


def addresses(nodes):
    return {n["address"] for n in nodes}


# ---- libtorrent ----

def run_libtorrent(binary):
    try:
        import libtorrent as lt
    except ImportError as e:
        print("skipped: python3-libtorrent is not installed for %s (%s); run tools/install-deps.sh"
              % (sys.executable, e))
        return SKIP
    figures["libtorrent_version"] = lt.__version__
    start = time.monotonic()
    a = Node(binary, "A")
    sessions, alerts = [], []
    nodes = [a]
    try:
        for _ in range(2):
            s = lt.session({
                # An explicit loopback address: on 0.0.0.0 libtorrent starts no DHT on loopback.
                "listen_interfaces": LOOPBACK + ":0",
                "enable_dht": True, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
                "dht_bootstrap_nodes": "",  # nobody outside
                # Several nodes on one IP address, and loopback addresses, are fine here.
                "dht_restrict_routing_ips": False, "dht_restrict_search_ips": False,
                "dht_ignore_dark_internet": False,
                # A source sending 50 packets in 10 s would be blocked for 300 s.
                "dht_block_ratelimit": 100000,
                "alert_mask": (lt.alert.category_t.dht_notification | lt.alert.category_t.dht_operation_notification
                               | lt.alert.category_t.status_notification),
            })
            s.add_dht_node((LOOPBACK, a.port))  # a routing-table node (bootstrap nodes never enter it)
            sessions.append(s)
        ports = []
        for s in sessions:
            end = time.monotonic() + 5
            while s.listen_port() == 0 and time.monotonic() < end:
                time.sleep(0.05)
            ports.append(s.listen_port())
        if not check(all(ports), "libtorrent sessions listen on 127.0.0.1 (ports %s)" % ports):
            return 1
        figures["libtorrent_ports"] = ports

        def pump(seconds, want=None):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                for i, s in enumerate(sessions):
                    for al in s.pop_alerts():
                        alerts.append((i, al))
                        if want and want(i, al):
                            return al
                time.sleep(0.05)
            return None

        # libtorrent bootstraps from A: its get_peers (a lookup of a random target) and A's ping.
        pump(1.5)
        b = Node(binary, "B", join=ports[0])
        nodes.append(b)
        joined = b.wait(lambda j: str(j.get("event", "")).startswith("joined through"), 10)
        check(joined is not None, "B joins the DHT through libtorrent session 1 (%s)" % (joined or {}).get("event"))

        # Session 1 downloads a magnet: libtorrent announces itself on the DHT.
        h1 = sha1_hex("p2plab bep5 interop: libtorrent announces")
        params = lt.parse_magnet_uri("magnet:?xt=urn:btih:" + h1)
        tmp = tempfile.mkdtemp(prefix="p2plab-bep5-")
        params.save_path = tmp
        sessions[0].add_torrent(params)
        t0 = time.monotonic()
        wanted = "%s:%d" % (LOOPBACK, ports[0])
        lt_nodes = {"%s:%d" % (LOOPBACK, p) for p in ports}
        found = None
        attempts = 0
        while time.monotonic() - t0 < 20 and found is None:
            pump(0.5)
            attempts += 1
            r = b.ask("get_peers " + h1, 10)
            if r and wanted in r["values"] and addresses(r["values_from"]) & lt_nodes:
                found = r
        check(found is not None,
              "B's iterative get_peers finds the peer libtorrent announced (%s), told by a libtorrent node" % wanted)
        if found:
            figures["get_peers_finds_libtorrent_peer"] = {
                "seconds_after_add_torrent": round(time.monotonic() - t0, 2), "get_peers_runs": attempts,
                "rounds": found["rounds"], "rpcs": found["rpcs"], "ms": found["ms"],
                "values_from": sorted(addresses(found["values_from"]))}

        # B announces port 7777 with the tokens it received; libtorrent must accept and serve it.
        h2 = sha1_hex("p2plab bep5 interop: p2plab announces")
        ann = b.ask("announce %s 7777" % h2, 10)
        accepted = addresses(ann["accepted_by"]) if ann else set()
        check(ann is not None and bool(accepted & lt_nodes),
              "libtorrent nodes accept B's announce_peer with B's tokens (accepted by %s)" % sorted(accepted))
        incoming = pump(3, lambda i, al: type(al).__name__ == "dht_announce_alert" and al.port == 7777
                        and str(al.info_hash) == h2)
        check(incoming is not None, "libtorrent reports the incoming announce of 127.0.0.1:7777")
        sessions[1].dht_get_peers(lt.sha1_hash(bytes.fromhex(h2)))
        t1 = time.monotonic()
        reply = pump(10, lambda i, al: i == 1 and type(al).__name__ == "dht_get_peers_reply_alert"
                     and str(al.info_hash) == h2 and (LOOPBACK, 7777) in al.peers())
        check(reply is not None, "libtorrent's dht_get_peers finds the peer B announced (127.0.0.1:7777)")
        if reply:
            figures["libtorrent_finds_p2plab_peer_s"] = round(time.monotonic() - t1, 2)
        if ann:
            figures["announce"] = {"announced": ann["announced"], "accepted": ann["announce_ok"], "ms": ann["ms"]}

        sa, sb = a.state(), b.state()
        lt_a = client_counts(sa, "LT")
        figures["A_from_libtorrent"] = lt_a
        figures["B_from_libtorrent"] = client_counts(sb, "LT")
        figures["A_table"] = sa.get("table", {}).get("size")
        figures["B_table"] = sb.get("table", {}).get("size")
        check(lt_a.get("queries", 0) > 0 and lt_a.get("responses", 0) > 0,
              "A answered libtorrent's queries and libtorrent answered A's (A's counts: %s)" % json.dumps(lt_a))
        table_a = {n["address"] for bucket in sa["table"]["buckets"] for n in bucket["nodes"]}
        check(bool(table_a & lt_nodes), "libtorrent nodes are in A's routing table (they answered A's ping)")
        for n in nodes:
            check(n.proc.poll() is None, "p2plab node %s still runs" % n.name)
        shutil.rmtree(tmp, ignore_errors=True)
    finally:
        for n in nodes:
            n.stop()
        del sessions[:]
    figures["seconds"] = round(time.monotonic() - start, 1)
    return 0


# ---- aria2 ----

def run_aria2(binary):
    aria2c = shutil.which("aria2c")
    if not aria2c:
        print("skipped: aria2c is not installed; run tools/install-deps.sh")
        return SKIP
    start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="p2plab-bep5-aria2-")
    a = Node(binary, "A")
    nodes = [a]
    aria = []
    h3 = sha1_hex("p2plab bep5 interop: aria2")
    dht_port, tcp_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)

    def start_aria2(entry_point):
        args = [aria2c, "--dir=" + tmp, "--enable-dht=true", "--dht-listen-port=%d" % dht_port,
                "--listen-port=%d" % tcp_port, "--dht-file-path=" + os.path.join(tmp, "dht.dat"),
                "--interface=" + LOOPBACK, "--disable-ipv6=true", "--bt-enable-lpd=false",
                "--enable-peer-exchange=false", "--summary-interval=0", "--console-log-level=warn",
                "--log=" + os.path.join(tmp, "aria2-%d.log" % len(aria)), "--log-level=info"]
        if entry_point:
            args.append("--dht-entry-point=%s:%d" % (LOOPBACK, a.port))
        args.append("magnet:?xt=urn:btih:" + h3)
        out = open(os.path.join(tmp, "aria2-%d.out" % len(aria)), "wb")
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                             preexec_fn=die_with_parent)
        out.close()
        aria.append(p)
        return p

    def stop_aria2(p):
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)  # aria2 saves its DHT routing table on the way out
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(timeout=10)

    def a2_counts(node):
        return client_counts(node.state(), "A2")

    def wait_counts(node, ok, seconds):
        end = time.monotonic() + seconds
        counts = {}
        while time.monotonic() < end:
            counts = a2_counts(node)
            if ok(counts):
                return counts, True
            time.sleep(0.25)
        return counts, False

    try:
        # Run 1: aria2 bootstraps from A, then looks up and announces its magnet's info-hash.
        t0 = time.monotonic()
        first = start_aria2(True)
        counts, ok = wait_counts(a, lambda c: c.get("by_method", {}).get("ping", 0) > 0 and c.get("responses", 0) > 0, 10)
        check(ok, "aria2 pings A and answers A's ping (A's counts from aria2: %s)" % json.dumps(counts))
        figures["aria2_bootstrap_s"] = round(time.monotonic() - t0, 2)
        counts, ok = wait_counts(a, lambda c: c.get("by_method", {}).get("announce_peer", 0) > 0, 20)
        check(ok and counts["by_method"].get("get_peers", 0) > 0,
              "aria2 sends get_peers and announce_peer to A (%s)" % json.dumps(counts.get("by_method", {})))
        figures["aria2_announce_s"] = round(time.monotonic() - t0, 2)
        sa = a.state()
        stored = sa.get("store", {}).get("by_hash", {}).get(h3, [])
        check("%s:%d" % (LOOPBACK, tcp_port) in stored,
              "A stored aria2's peer %s:%d under the magnet's info-hash (stored: %s)" % (LOOPBACK, tcp_port, stored))
        table_a = {n["address"] for bucket in sa["table"]["buckets"] for n in bucket["nodes"]}
        check("%s:%d" % (LOOPBACK, dht_port) in table_a, "aria2's DHT node is in A's routing table")
        # B joins through aria2: aria2 answers B's find_node (with A in its nodes).
        b = Node(binary, "B", join=dht_port)
        nodes.append(b)
        joined = b.wait(lambda j: str(j.get("event", "")).startswith("joined through"), 10)
        check(joined is not None, "B joins through aria2's DHT node (%s)" % (joined or {}).get("event"))
        sb = b.state()
        table_b = {n["address"] for bucket in sb["table"]["buckets"] for n in bucket["nodes"]}
        check("%s:%d" % (LOOPBACK, a.port) in table_b, "aria2's find_node answer brought A into B's routing table")
        figures["B_from_aria2"] = client_counts(sb, "A2")
        get = b.ask("get_peers " + h3, 10)
        check(get is not None and "%s:%d" % (LOOPBACK, tcp_port) in get["values"],
              "B's get_peers finds aria2's peer (%s)" % (get or {}).get("values"))
        stop_aria2(first)
        check(os.path.exists(os.path.join(tmp, "dht.dat")), "aria2 saved its routing table on SIGTERM")
        # Run 2: aria2 starts from its saved table and looks up its own id with find_node.
        before = a2_counts(a).get("by_method", {}).get("find_node", 0)
        t1 = time.monotonic()
        start_aria2(False)
        counts, ok = wait_counts(a, lambda c: c.get("by_method", {}).get("find_node", 0) > before, 10)
        check(ok, "aria2 restarted from its saved table sends find_node to A, answered (%s)"
              % json.dumps(counts.get("by_method", {})))
        figures["aria2_find_node_after_restart_s"] = round(time.monotonic() - t1, 2)
        figures["A_from_aria2"] = counts
        figures["A_errors_sent"] = a.state().get("errors_sent", {})
        for n in nodes:
            check(n.proc.poll() is None, "p2plab node %s still runs" % n.name)
    finally:
        for p in aria:
            stop_aria2(p)
        for n in nodes:
            n.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    figures["seconds"] = round(time.monotonic() - start, 1)
    return 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("libtorrent", "aria2"):
        print(__doc__)
        return 2
    code = run_libtorrent(sys.argv[2]) if sys.argv[1] == "libtorrent" else run_aria2(sys.argv[2])
    print("figures: " + json.dumps(figures), flush=True)
    if code == 0 and failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
