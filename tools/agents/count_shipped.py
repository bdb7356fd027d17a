#!/usr/bin/env python3
"""Checks that a log shipper delivered every event exactly once.

    python3 tools/agents/count_shipped.py --logs /var/log/rag-service --received shipped.jsonl

--logs is the directory the file sink writes (plain and .gz segments of either layout; the
events.jsonl link is skipped, so no file is read twice); --received is what the shipper wrote out
(one of our JSON lines per line, as rsyslog's omfile or Vector's file sink with the JSON codec
write them). Events are counted by run/seq; file headers (seq 0) are not events. Prints one JSON
object: written, arrived_once, missing, duplicates, unparsed. Exit 0 when every written event
arrived exactly once, 1 otherwise.
"""
import argparse
import collections
import gzip
import json
import os
import re
import sys

KEY = re.compile(rb'"run":"([0-9a-f]+)","seq":(\d+)')


def keys(stream):
    """run/seq of every event line of a binary stream, and the count of lines without one."""
    found, unparsed = [], 0
    for line in stream:
        match = KEY.search(line)
        if match is None:
            if line.strip():
                unparsed += 1
            continue
        if match.group(2) != b"0":
            found.append(match.group(1) + b"/" + match.group(2))
    return found, unparsed


def written(directory):
    events, unparsed = [], 0
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.startswith(".") or name.endswith(".tmp") or os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as raw:
            compressed = raw.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if compressed else open(path, "rb")) as stream:
            found, bad = keys(stream)
        events += found
        unparsed += bad
    return events, unparsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", required=True, help="the file sink's directory")
    parser.add_argument("--received", required=True, help="what the shipper delivered, one line per event")
    arguments = parser.parse_args()
    on_disk, unparsed_disk = written(arguments.logs)
    disk = collections.Counter(on_disk)
    try:
        with open(arguments.received, "rb") as stream:
            delivered, unparsed = keys(stream)
    except FileNotFoundError:
        delivered, unparsed = [], 0
    arrived = collections.Counter(delivered)
    report = {
        "written": len(disk),
        "written_twice": sum(1 for count in disk.values() if count > 1),
        "arrived_once": sum(1 for key, count in arrived.items() if count == 1 and key in disk),
        "missing": sum(1 for key in disk if key not in arrived),
        "duplicates": sum(1 for count in arrived.values() if count > 1),
        "unexpected": sum(1 for key in arrived if key not in disk),
        "unparsed": unparsed + unparsed_disk,
        "lines_received": len(delivered),
    }
    print(json.dumps(report))
    ok = report["missing"] == 0 and report["duplicates"] == 0 and report["unexpected"] == 0 and report["written_twice"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
