#!/usr/bin/env python3
"""Python peers of the event pipeline, on the same events (a JSON-lines file, e.g. raw.jsonl
written by `hardening-bench pipeline`).

The events are loaded into memory first (untimed), as the Swift benchmark prepares its events
before timing. Then each peer writes all of them as gzip-compressed JSON lines at level 6:

  logging  - the standard `logging` module with a JSON formatter and a RotatingFileHandler whose
             rotator gzips each rotated file (the Python logging cookbook's recipe); the last file
             is gzipped too, so that all output is compressed as in ours.
  dumps    - a bare loop of json.dumps + a gzip file object.

Prints one line per peer: `peer NAME events=N seconds=S events_per_second=R`.
"""
import argparse
import gzip
import json
import logging
import logging.handlers
import os
import shutil
import sys
import time


def load(path, limit):
    events = []
    with open(path, "rb") as handle:
        for line in handle:
            event = json.loads(line)
            if event.get("event") == "file.opened":
                continue
            events.append(event)
            if len(events) >= limit:
                break
    return events


class JSONFormatter(logging.Formatter):
    """The usual JSON formatter: the record's fields plus the event's attrs, one object a line."""

    def format(self, record):
        payload = {
            "timestamp": self.formatTime(record),
            "level": record.levelname.lower(),
            "event": record.event_kind,
            "message": record.getMessage(),
            "service": "bench",
            "host": "bench-host",
            "attrs": record.attrs,
        }
        return json.dumps(payload)


def gzip_rotator(source, destination):
    with open(source, "rb") as plain, gzip.open(destination, "wb", compresslevel=6) as packed:
        shutil.copyfileobj(plain, packed)
    os.remove(source)


def run_logging(events, directory):
    path = os.path.join(directory, "python-logging.jsonl")
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=64 << 20, backupCount=1000)
    handler.rotator = gzip_rotator
    handler.namer = lambda name: name + ".gz"
    handler.setFormatter(JSONFormatter())
    logger = logging.getLogger("bench")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    levels = {"trace": 5, "debug": 10, "info": 20, "notice": 25, "warning": 30, "error": 40, "critical": 50}
    start = time.perf_counter()
    for event in events:
        logger.log(levels.get(event["level"], 20), event["message"],
                   extra={"event_kind": event["event"], "attrs": event["attrs"]})
    handler.close()
    gzip_rotator(path, path + ".final.gz")
    return time.perf_counter() - start


def run_dumps(events, directory):
    path = os.path.join(directory, "python-dumps.jsonl.gz")
    start = time.perf_counter()
    with gzip.open(path, "wt", compresslevel=6) as handle:
        for event in events:
            handle.write(json.dumps(event) + "\n")
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--out", required=True)
    parser.add_argument("--peers", default="logging,dumps")
    args = parser.parse_args()
    events = load(args.input, args.events)
    os.makedirs(args.out, exist_ok=True)
    logging.addLevelName(5, "TRACE")
    logging.addLevelName(25, "NOTICE")
    for peer in args.peers.split(","):
        seconds = {"logging": run_logging, "dumps": run_dumps}[peer](events, args.out)
        print(f"peer {peer} events={len(events)} seconds={seconds:.3f} events_per_second={len(events) / seconds:.0f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
