#!/usr/bin/env python3
"""A small OTLP/HTTP receiver for tests and for looking at what `hardening` exports.

It listens on 127.0.0.1 (port 0 picks a free one; it says `listening on http://127.0.0.1:PORT`
on stderr), decodes every POST to /v1/traces, /v1/metrics and
/v1/logs with opentelemetry-proto (protobuf, gzip or not) and writes one JSON line per span to
--spans (trace_id and span_id in hex, parent, name, kind, status, attributes, events, times),
one per log record to --logs (ids, severity, body, attributes),
and the counts per signal to --counts (and stdout) at exit. --fail-status 500 answers every export with that
status (an exporter must count the failure and go on); --delay S answers after S seconds.
SIGTERM or SIGINT ends it.

    pip install opentelemetry-proto
    python3 tools/otlp/otlp_receiver.py --spans /tmp/spans.jsonl &
    swift run hardening demo --duration 5 --otlp http://127.0.0.1:PORT
"""
import argparse
import gzip
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

SIGNALS = {
    "/v1/traces": ("traces", trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse),
    "/v1/metrics": ("metrics", metrics_service_pb2.ExportMetricsServiceRequest, metrics_service_pb2.ExportMetricsServiceResponse),
    "/v1/logs": ("logs", logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse),
}


def any_value(value):
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: any_value(item.value) for item in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def attributes(pairs):
    return {pair.key: any_value(pair.value) for pair in pairs}


def span_json(span, resource):
    return {
        "trace_id": span.trace_id.hex(),
        "span_id": span.span_id.hex(),
        "parent_span_id": span.parent_span_id.hex() or None,
        "name": span.name,
        "kind": span.kind,
        "start_ns": span.start_time_unix_nano,
        "end_ns": span.end_time_unix_nano,
        "status": {"code": span.status.code, "message": span.status.message},
        "attributes": attributes(span.attributes),
        "events": [{"name": event.name, "attributes": attributes(event.attributes)} for event in span.events],
        "resource": resource,
    }


def log_json(record, resource):
    return {
        "trace_id": record.trace_id.hex() or None,
        "span_id": record.span_id.hex() or None,
        "time_ns": record.time_unix_nano,
        "severity_number": record.severity_number,
        "severity_text": record.severity_text,
        "body": any_value(record.body),
        "attributes": attributes(record.attributes),
        "resource": resource,
    }


class Receiver:
    def __init__(self, spans_path, logs_path, fail_status, delay):
        self.lock = threading.Lock()
        self.spans = open(spans_path, "a", encoding="utf-8") if spans_path else None
        self.logs = open(logs_path, "a", encoding="utf-8") if logs_path else None
        self.fail_status = fail_status
        self.delay = delay
        self.counts = {"traces": 0, "metrics": 0, "logs": 0, "requests": 0, "failed_answers": 0, "bad_requests": 0}

    def take(self, path, body):
        name, request_type, _ = SIGNALS[path]
        request = request_type()
        request.ParseFromString(body)
        with self.lock:
            self.counts["requests"] += 1
            if name == "traces":
                spans = ((span, resource.resource) for resource in request.resource_spans
                         for scope in resource.scope_spans for span in scope.spans)
                self.write(self.spans, spans, span_json, "traces")
            elif name == "metrics":
                self.counts["metrics"] += sum(len(scope.metrics) for rm in request.resource_metrics for scope in rm.scope_metrics)
            else:
                records = ((record, resource.resource) for resource in request.resource_logs
                           for scope in resource.scope_logs for record in scope.log_records)
                self.write(self.logs, records, log_json, "logs")

    def write(self, out, items, to_json, signal):
        """Counts `items` (pairs of an item and its resource) and writes each as a JSON line."""
        for item, resource in items:
            self.counts[signal] += 1
            if out:
                out.write(json.dumps(to_json(item, attributes(resource.attributes))) + "\n")
        if out:
            out.flush()


def handler_for(receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status, body=b"", content_type="application/x-protobuf"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if receiver.delay:
                time.sleep(receiver.delay)
            if self.path not in SIGNALS:
                return self.answer(404, b"unknown path", "text/plain")
            if receiver.fail_status:
                with receiver.lock:
                    receiver.counts["failed_answers"] += 1
                return self.answer(receiver.fail_status, b"refused by --fail-status", "text/plain")
            try:
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.take(self.path, body)
            except Exception as error:  # a request we cannot decode is the exporter's bug: say so
                with receiver.lock:
                    receiver.counts["bad_requests"] += 1
                print(f"otlp_receiver: cannot decode {self.path}: {error}", file=sys.stderr, flush=True)
                return self.answer(400, str(error).encode(), "text/plain")
            self.answer(200, SIGNALS[self.path][2]().SerializeToString())

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=4318)
    parser.add_argument("--spans", help="append one JSON line per span here")
    parser.add_argument("--logs", help="append one JSON line per log record here")
    parser.add_argument("--counts", help="write the counts per signal here (JSON) at exit")
    parser.add_argument("--fail-status", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0)
    args = parser.parse_args()
    receiver = Receiver(args.spans, args.logs, args.fail_status, args.delay)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(receiver))
    server.daemon_threads = True
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    # A parent may start us with these blocked (a test runner's threads often block them).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", file=sys.stderr, flush=True)
    while not stop.wait(0.1):  # a bare wait() would not let the signal handler run
        pass
    server.shutdown()
    with receiver.lock:
        for out in (receiver.spans, receiver.logs):
            if out:
                out.close()
        if args.counts:
            with open(args.counts, "w", encoding="utf-8") as out:
                json.dump(receiver.counts, out)
    print(json.dumps(receiver.counts), flush=True)


if __name__ == "__main__":
    main()
