#!/usr/bin/env python3
"""Attaches many /events/stream clients, and some that never read, to a real process at full speed.

The process is `hardening demo --dashboard-port PORT` (started and stopped by this script, by its
pid): its fake dependencies, retries, breakers and health checks emit events as fast as the demo
runs, onto a bus whose files must hold every event (the demo ends by comparing its live summary
with the replay of its files, and exits 1 when they differ). While it runs, READERS clients read
the whole stream, SILENT clients (a 4 KiB receive buffer) connect and never read, and the script
samples the demo's resident memory.

It shows, at sizes the unit tests do not use: the readers get the events in order and are never
dropped; each silent client's connection is closed by the server (dropped once its queue passes
the bound, which the view counts, or at the end of the demo when the stream held less than its
queue and socket buffers); the bus never waits for any client (the demo's files hold every event:
exit 0). The demo's peak RSS is printed; --max-rss-mib makes it a promise.

Usage:
  python3 tools/load/sse_flood.py --binary .build/release/hardening --readers 50 --silent 5 --seconds 60
The last line printed is a JSON object with every figure; the exit code is 1 when a promise broke.
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from child_process import stop  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Reader(threading.Thread):
    """Reads the stream over a raw socket; counts `data:` lines and checks that seq only grows."""

    def __init__(self, port, silent=False):
        super().__init__(daemon=True)
        self.silent = silent
        self.sock = socket.socket()
        if silent:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(b"GET /events/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        self.events = 0
        self.out_of_order = 0
        self.closed_by_server = False
        self.last_seq = 0

    def run(self):
        if self.silent:
            return
        pending = b""
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                return
            if not data:
                self.closed_by_server = True
                return
            pending += data
            lines = pending.split(b"\n")
            pending = lines.pop()
            for line in lines:
                if line.startswith(b"id: "):
                    seq = int(line.rsplit(b"-", 1)[-1])
                    if seq <= self.last_seq:
                        self.out_of_order += 1
                    self.last_seq = seq
                elif line.startswith(b"data: "):
                    self.events += 1

    def silent_was_closed(self, timeout):
        """For a silent client: drain what the socket holds and see whether the server closed it."""
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(1 << 16)
                if not data:
                    return True
        except OSError:
            return False


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--silent", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--max-rss-mib", type=float, default=None, help="a promise: the demo's peak RSS stays below this")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="sse-flood-")
    stderr = open(os.path.join(workdir, "demo.stderr"), "w+")
    demo = subprocess.Popen([args.binary, "demo", "--duration", str(args.seconds), "--log-dir", os.path.join(workdir, "logs"),
                             "--stdout", "off", "--dashboard-port", "0"], stdout=subprocess.PIPE, stderr=stderr,
                            stdin=subprocess.DEVNULL)
    problems = []
    figures = {}
    try:
        port = None
        deadline = time.time() + 60
        while port is None and time.time() < deadline:
            stderr.seek(0)
            match = re.search(r"dashboard listening on http://127\.0\.0\.1:(\d+)/", stderr.read())
            if match:
                port = int(match.group(1))
            elif demo.poll() is not None:
                raise SystemExit(f"the demo exited: {stderr.read()}")
            else:
                time.sleep(0.05)
        if port is None:
            raise SystemExit("the demo's dashboard did not listen")
        readers = [Reader(port) for _ in range(args.readers)]
        silent = [Reader(port, silent=True) for _ in range(args.silent)]
        for reader in readers:
            reader.start()
        peak_rss = 0
        view_line = ""
        while demo.poll() is None:
            peak_rss = max(peak_rss, rss_kib(demo.pid) or 0)
            try:
                view = urllib.request.urlopen(f"http://127.0.0.1:{port}/dashboard/view", timeout=5).read().decode()
                match = re.search(r"event stream: \d+ client\(s\), \d+ dropped[^<]*", view)
                if match:
                    view_line = match.group(0)
            except OSError:
                pass
            time.sleep(0.5)
        output = demo.stdout.read().decode(errors="replace")
        figures["demo_exit"] = demo.returncode
        figures["demo_equal"] = "equal ✅" in output
        figures["peak_rss_mib"] = round(peak_rss / 1024, 1)
        figures["view"] = view_line
        for reader in readers:
            reader.join(timeout=20)
        counts = sorted(reader.events for reader in readers)
        figures["reader_events_min"] = counts[0] if counts else 0
        figures["reader_events_max"] = counts[-1] if counts else 0
        figures["readers_closed_at_end"] = sum(reader.closed_by_server for reader in readers)
        figures["out_of_order"] = sum(reader.out_of_order for reader in readers)
        figures["silent_closed"] = sum(client.silent_was_closed(5) for client in silent)
        dropped = int(re.search(r"(\d+) dropped", view_line).group(1)) if view_line else -1
        figures["dropped_in_view"] = dropped
        if demo.returncode != 0 or not figures["demo_equal"]:
            problems.append("the demo's files did not hold every event (live summary and replay differ)")
        if counts and counts[0] < 100:
            problems.append(f"a reader got only {counts[0]} events")
        if figures["out_of_order"]:
            problems.append("a reader saw seq go backwards")
        if figures["readers_closed_at_end"] != len(readers):
            problems.append("not every reader saw its stream end with the demo")
        if figures["silent_closed"] != args.silent:
            problems.append(f"silent clients closed by the server: {figures['silent_closed']} of {args.silent}")
        if args.max_rss_mib is not None and figures["peak_rss_mib"] > args.max_rss_mib:
            problems.append(f"peak RSS {figures['peak_rss_mib']} MiB")
    finally:
        stop(demo, timeout=30)
    figures["problems"] = problems
    print(json.dumps(figures, sort_keys=True, ensure_ascii=False))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
