#!/usr/bin/env python3
"""The replay peer in Python: stream a gzip JSON-lines log with orjson (json if orjson is
missing) and compute per-operation count/mean/min/max of timing.recorded, as a streaming
reduce. Prints `peer_replay_python events=… seconds=… events_per_second=…`."""
import gzip
import sys
import time

try:
    import orjson as json_impl
    name = "orjson"
except ImportError:
    import json as json_impl
    name = "json"

start = time.perf_counter()
events = 0
stats = {}
with gzip.open(sys.argv[1], "rb") as handle:
    for line in handle:
        events += 1
        try:
            event = json_impl.loads(line)
        except ValueError:
            continue
        if event.get("event") != "timing.recorded":
            continue
        attrs = event["attrs"]
        duration = attrs["duration_ms"]
        entry = stats.get(attrs["operation"])
        if entry is None:
            stats[attrs["operation"]] = [1, duration, duration, duration]
        else:
            entry[0] += 1
            entry[1] += duration
            entry[2] = min(entry[2], duration)
            entry[3] = max(entry[3], duration)
summary = {op: {"count": c, "mean": t / c, "min": lo, "max": hi} for op, (c, t, lo, hi) in stats.items()}
seconds = time.perf_counter() - start
print(f"peer_replay_python parser={name} events={events} operations={len(summary)} seconds={seconds} events_per_second={events / seconds}")
