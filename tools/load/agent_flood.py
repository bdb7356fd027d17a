#!/usr/bin/env python3
"""Floods a real `hardening agent` on 127.0.0.1 and measures whether it stays answerable.

Three scenarios, each against a fresh agent started (and stopped, by its pid) by this script:

  idle      IDLE connections that never speak and SLOW slowloris connections (one byte of a
            request head a second) are held while a prober asks /health/live every 50 ms on a
            new connection. Reports the prober's latencies (p50, p99, max, failures) and how many
            idle and slowloris sockets the server closed, and when.
  summary   CLIENTS keep-alive clients request /summary as fast as they can for SECONDS while
            the agent probes a healthy upstream (a `python3 -m http.server` child) every 250 ms
            with a 1 s timeout. Reports requests served, /health/live latencies, and the probes
            and alerts from /metrics: a healthy upstream must never look down.
  protocol  an HTTP/1.0 request without keep-alive is closed after its answer; a client that
            pipelines thousands of requests and never reads the answers is closed at the
            request timeout.

Usage:
  python3 tools/load/agent_flood.py --binary .build/release/hardening              # the full sizes
  python3 tools/load/agent_flood.py --binary ... --idle 600 --slow 50 --seconds 4 --clients 50
The last line printed is a JSON object with every figure; the exit code is 1 when a promise
broke (a liveness probe failed or took longer than --max-live-ms at p99, an idle or slowloris
socket outlived its timeout, an upstream probe was not healthy, an alert fired).
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from child_process import stop  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    """A `hardening agent` child, stopped by its pid whatever happens."""

    def __init__(self, binary, config_text, workdir):
        self.path = os.path.join(workdir, "agent.yaml")
        with open(self.path, "w") as f:
            f.write(config_text)
        self.stderr = open(os.path.join(workdir, "agent.stderr"), "w+")
        self.process = subprocess.Popen([binary, "agent", "--config", self.path], stdout=subprocess.DEVNULL,
                                        stderr=self.stderr, stdin=subprocess.DEVNULL)

    def wait_listening(self, port, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"agent exited: {self.read_stderr()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("agent did not listen")

    def read_stderr(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()

    def stop(self):
        stop(self.process, timeout=20)


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def http_get(port, path, timeout=5.0):
    """One GET on a new connection; (status, body, seconds) or raises."""
    start = time.perf_counter()
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data.split(b"\r\n\r\n", 1)[-1], time.perf_counter() - start


def probe_liveness(port, stopping, results):
    """GET /health/live every 50 ms until `stopping` is set; puts (latencies in ms, failures).

    It runs in a process of its own: in the flood's event loop, each probe's time would include
    the loop's turns on hundreds of other connections (the load generator's delay, not the
    agent's), which a busy machine stretches to seconds."""
    latencies, failures = [], []
    while not stopping.is_set():
        start = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5.0) as connection:
                connection.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := connection.recv(65536):
                    data += chunk
            status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
            if status == 200:
                latencies.append((time.perf_counter() - start) * 1000)
            else:
                failures.append(f"status {status}")
        except Exception as error:  # noqa: BLE001 - every failure counts
            failures.append(repr(error))
        time.sleep(0.05)
    results.put((latencies, failures))


class LivenessProber:
    """``probe_liveness`` in a child process, started and finished from the event loop."""

    def __init__(self, port):
        context = multiprocessing.get_context("fork")
        self.stopping = context.Event()
        self.results = context.Queue()
        self.process = context.Process(target=probe_liveness, args=(port, self.stopping, self.results), daemon=True)
        self.process.start()

    async def finish(self):
        self.stopping.set()
        latencies, failures = await asyncio.get_running_loop().run_in_executor(None, self.results.get, True, 30)
        self.process.join(10)
        return latencies, failures


async def scenario_idle(args, workdir):
    port = free_port()
    config = (f"server: {{host: 127.0.0.1, port: {port}, idle_timeout: {args.idle_timeout}s, "
              f"header_timeout: {args.header_timeout}s, max_connections: {args.max_connections}}}\n"
              "events: {stdout: off}\n")
    agent = Agent(args.binary, config, workdir)
    try:
        agent.wait_listening(port)
        prober = LivenessProber(port)
        opened = time.perf_counter()
        idle = []
        for _ in range(args.idle):
            try:
                idle.append(await asyncio.open_connection("127.0.0.1", port))
            except OSError as error:
                failures.append(f"idle connect: {error!r}")
                break
        # How long opening them took: slower than the idle timeout (a busy machine), the first
        # are closed before the last open and the connection limit may never be reached.
        open_seconds = time.perf_counter() - opened
        slow_closed = []

        async def slowloris():
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            start = time.perf_counter()
            head = b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 100
            for byte in head:
                try:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    data = await asyncio.wait_for(reader.read(1), 1.0)
                    if data == b"":
                        slow_closed.append(time.perf_counter() - start)
                        return
                except asyncio.TimeoutError:
                    continue
                except OSError:
                    slow_closed.append(time.perf_counter() - start)
                    return
            writer.close()

        slow_tasks = [asyncio.create_task(slowloris()) for _ in range(args.slow)]
        # Hold until the idle timeout has passed with slack, then see which sockets the server closed.
        hold = max(args.seconds, args.idle_timeout + 3)
        await asyncio.sleep(hold)
        closed_idle = 0
        for reader, writer in idle:
            try:
                data = await asyncio.wait_for(reader.read(1), 0.01)
                if data == b"":
                    closed_idle += 1
            except (asyncio.TimeoutError, OSError):
                pass
            writer.close()
        latencies, failures = await prober.finish()
        await asyncio.gather(*slow_tasks, return_exceptions=True)
        status, metrics, _ = await http_get(port, "/metrics")
        server = {m.group(1): int(float(m.group(2))) for m in re.finditer(rb"^(hardening_server_\S+) (\S+)$", metrics, re.M)}
        result = {
            "scenario": "idle", "idle": len(idle), "slowloris": args.slow, "held_seconds": round(time.perf_counter() - opened, 1),
            "open_seconds": round(open_seconds, 2),
            "live_requests": len(latencies), "live_failures": len(failures), "live_failure_samples": failures[:3],
            "live_p50_ms": round(percentile(latencies, 0.5) or 0, 2), "live_p99_ms": round(percentile(latencies, 0.99) or 0, 2),
            "live_max_ms": round(max(latencies, default=0), 2),
            "idle_closed_by_server": closed_idle, "slowloris_closed_by_server": len(slow_closed),
            "slowloris_closed_after_max_s": round(max(slow_closed, default=0), 2),
            "server_metrics": {k.decode(): v for k, v in server.items()},
        }
        problems = []
        if failures:
            problems.append(f"{len(failures)} liveness probes failed")
        if result["live_p99_ms"] > args.max_live_ms:
            problems.append(f"/health/live p99 {result['live_p99_ms']} ms over {args.max_live_ms}")
        if closed_idle != len(idle):
            problems.append(f"{len(idle) - closed_idle} idle sockets outlived the idle timeout")
        if len(slow_closed) != args.slow:
            problems.append(f"{args.slow - len(slow_closed)} slowloris sockets were never closed")
        elif max(slow_closed, default=0) > args.header_timeout + 2.5:
            problems.append(f"a slowloris socket lived {max(slow_closed):.1f} s (header timeout {args.header_timeout} s)")
        return result, problems
    finally:
        agent.stop()


async def scenario_summary(args, workdir):
    port = free_port()
    upstream_port = free_port()
    upstream = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(upstream_port), "--directory", workdir],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Every probe counts in /metrics as it happens (the production detail would fold them into
    # 10-second windows, longer than the flood).
    config = (f"server: {{host: 127.0.0.1, port: {port}}}\n"
              "events: {stdout: off, detail: full}\n"
              "health:\n  interval: 250ms\n  timeout: 1s\n  checks:\n"
              f"    - {{name: upstream, type: http, url: 'http://127.0.0.1:{upstream_port}/'}}\n"
              "alerts:\n  rules:\n    - {name: upstream_down, consecutive_failures: 1}\n")
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", upstream_port), timeout=1):
                break
        except OSError:
            time.sleep(0.05)
    agent = Agent(args.binary, config, workdir)
    try:
        agent.wait_listening(port)
        # Until the first probes are in; then only what happens under the flood counts.
        await asyncio.sleep(1.0)
        _, before, _ = await http_get(port, "/metrics")
        stop = asyncio.Event()
        served = [0]
        errors = []

        async def client():
            while not stop.is_set():
                try:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    while not stop.is_set():
                        writer.write(b"GET /summary HTTP/1.1\r\nHost: x\r\n\r\n")
                        head = await reader.readuntil(b"\r\n\r\n")
                        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                        await reader.readexactly(length)
                        served[0] += 1
                    writer.close()
                except Exception as error:  # noqa: BLE001
                    errors.append(repr(error))
                    await asyncio.sleep(0.05)

        prober = LivenessProber(port)
        clients = [asyncio.create_task(client()) for _ in range(args.clients)]
        await asyncio.sleep(args.seconds)
        stop.set()
        latencies, failures = await prober.finish()
        await asyncio.gather(*clients, return_exceptions=True)
        _, after, _ = await http_get(port, "/metrics")

        def probes_in(metrics):
            return {m.group(1).decode(): int(float(m.group(2)))
                    for m in re.finditer(rb'^hardening_health_probes_total\{check="upstream",status="(\w+)"\} (\S+)$', metrics, re.M)}

        def fired_in(metrics):
            return sum(int(float(m.group(1))) for m in re.finditer(rb"^hardening_alerts_fired_total\{[^}]*\} (\S+)$", metrics, re.M))

        counted_before = probes_in(before)
        probes = {status: count - counted_before.get(status, 0) for status, count in probes_in(after).items()}
        probes = {status: count for status, count in probes.items() if count}
        fired = fired_in(after) - fired_in(before)
        result = {
            "scenario": "summary", "clients": args.clients, "seconds": args.seconds, "summary_requests": served[0],
            "summary_per_second": round(served[0] / args.seconds), "client_errors": len(errors),
            "live_requests": len(latencies), "live_failures": len(failures),
            "live_p50_ms": round(percentile(latencies, 0.5) or 0, 2), "live_p99_ms": round(percentile(latencies, 0.99) or 0, 2),
            "upstream_probes": probes, "alerts_fired": fired,
        }
        problems = []
        if set(probes) != {"healthy"}:
            problems.append(f"a healthy upstream was probed as {probes}")
        if fired:
            problems.append(f"{fired} alerts fired for a healthy upstream")
        if failures:
            problems.append(f"{len(failures)} liveness probes failed")
        if served[0] == 0:
            problems.append("no /summary answered")
        return result, problems
    finally:
        agent.stop()
        upstream.kill()
        upstream.wait()


async def scenario_protocol(args, workdir):
    """HTTP/1.0 without keep-alive is closed after its answer; a client that pipelines requests
    and never reads the answers is closed at the request timeout."""
    port = free_port()
    config = (f"server: {{host: 127.0.0.1, port: {port}, request_timeout: {args.request_timeout}s}}\n"
              "events: {stdout: off}\n")
    agent = Agent(args.binary, config, workdir)
    try:
        agent.wait_listening(port)
        problems = []
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /health/live HTTP/1.0\r\n\r\n")
        start = time.perf_counter()
        try:
            answer = await asyncio.wait_for(reader.read(), 5.0)
            http10_closed_after = time.perf_counter() - start
        except asyncio.TimeoutError:
            answer, http10_closed_after = b"", None
            problems.append("an HTTP/1.0 request without keep-alive left the connection open")
        if not answer.startswith(b"HTTP/1.1 200"):
            problems.append(f"HTTP/1.0 got {answer[:40]!r}")
        writer.close()

        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.setblocking(False)
        sent = 0
        burst = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 100
        for _ in range(400):
            try:
                sock.send(burst)
                sent += 100
            except BlockingIOError:
                break
        start = time.perf_counter()
        closed_after = None
        while time.perf_counter() - start < args.request_timeout + 10:
            await asyncio.sleep(0.2)
            # The answers are never read: the server's own count says when it closed.
            _, metrics, _ = await http_get(port, "/metrics")
            found = re.search(rb'^hardening_server_timeouts_total\{phase="request"\} (\S+)$', metrics, re.M)
            if found and int(float(found.group(1))) > 0:
                closed_after = time.perf_counter() - start
                break
        sock.close()
        if closed_after is None:
            problems.append("a reader that never reads was not closed by the request timeout")
        result = {"scenario": "protocol", "http10_closed_after_s": http10_closed_after and round(http10_closed_after, 3),
                  "pipelined_requests_unread": sent, "unread_closed_after_s": closed_after and round(closed_after, 1),
                  "request_timeout_s": args.request_timeout}
        return result, problems
    finally:
        agent.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--scenario", choices=["idle", "summary", "protocol", "all"], default="all")
    parser.add_argument("--idle", type=int, default=3000)
    parser.add_argument("--slow", type=int, default=200)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--idle-timeout", type=float, default=5)
    parser.add_argument("--header-timeout", type=float, default=3)
    parser.add_argument("--max-connections", type=int, default=512)
    parser.add_argument("--request-timeout", type=float, default=3)
    parser.add_argument("--max-live-ms", type=float, default=100)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    results, problems = [], []
    with tempfile.TemporaryDirectory(prefix="agent-flood-") as workdir:
        scenarios = {"idle": scenario_idle, "summary": scenario_summary, "protocol": scenario_protocol}
        for name in (list(scenarios) if args.scenario == "all" else [args.scenario]):
            result, found = asyncio.run(scenarios[name](args, workdir))
            print(json.dumps(result), flush=True)
            results.append(result)
            problems += [f"{name}: {p}" for p in found]
    print(json.dumps({"results": results, "problems": problems}))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
