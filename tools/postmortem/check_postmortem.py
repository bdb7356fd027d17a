#!/usr/bin/env python3
"""Recompute replay's post-mortem sections by brute force and compare them.

Usage: check_postmortem.py EVENTS.jsonl REPORT.json

EVENTS.jsonl is `hardening replay --format events DIR...` (the merged stream), REPORT.json is
`hardening replay --format json DIR...` of the same inputs. Checks that the events are in time
order (timestamp, host, run, seq), and that `first_failure`, `first_failure_by_host`,
`breaker_intervals` and `unhealthy_intervals` equal what this script computes from the events,
to the microsecond. Exit 0 when everything matches, 1 with the differences otherwise.
"""
import json
import sys
from datetime import datetime, timezone

FAILURE_KINDS = {"retry.attempt_failed", "retry.exhausted", "timeout.fired", "error.recorded",
                 "breaker.rejected", "bulkhead.rejected", "rate_limiter.rejected"}
SUBJECT_KEYS = ["operation", "breaker", "check", "bulkhead", "limiter"]


def micros(text):
    """RFC 3339 with up to 6 fractional digits, to microseconds since the epoch."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int((moment - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds()) * 1_000_000 + moment.microsecond


def order_key(event):
    return (micros(event["timestamp"]), event["host"], event["run"], event["seq"])


def is_failure(event):
    kind, attrs = event["event"], event.get("attrs", {})
    if kind in FAILURE_KINDS:
        return True
    if kind == "timing.recorded":
        return attrs.get("outcome") not in ("success", "fallback")
    if kind == "health.probed":
        return attrs.get("status") == "unhealthy"
    return False


def failure_record(event):
    attrs = event.get("attrs", {})
    record = {"timestamp": event["timestamp"], "host": event["host"], "run": event["run"], "seq": event["seq"],
              "trace_id": event.get("trace_id"), "event": event["event"]}
    for key in SUBJECT_KEYS:
        if key in attrs:
            record[key] = attrs[key]
            break
    return record


def intervals(events, kind, name_key, bad, last_by_run):
    changes = {}
    for event in events:
        if event["event"] == kind:
            attrs = event["attrs"]
            changes.setdefault((attrs[name_key], event["host"], event["run"]), []).append(event)
    periods = []
    for (name, host, run), found in changes.items():
        opened = None
        for event in sorted(found, key=lambda e: e["seq"]):
            to = event["attrs"]["to"]
            if opened is None and to == bad:
                opened = event
            elif opened is not None and to != bad:
                periods.append((name, host, run, opened["timestamp"], event["timestamp"],
                                micros(event["timestamp"]) - micros(opened["timestamp"])))
                opened = None
        if opened is not None:
            periods.append((name, host, run, opened["timestamp"], None,
                            max(0, last_by_run[run] - micros(opened["timestamp"]))))
    return sorted(periods, key=lambda p: (micros(p[3]), p[0]))


def main():
    events = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
    report = json.load(open(sys.argv[2], encoding="utf-8"))
    problems = []

    keys = [order_key(e) for e in events]
    for index in range(1, len(keys)):
        if keys[index] < keys[index - 1]:
            problems.append(f"events out of time order at line {index + 1}: {keys[index - 1]} then {keys[index]}")
            break

    content = [e for e in events if e["event"] not in ("file.opened", "file.closed")]
    last_by_run = {}
    for event in content:
        last_by_run[event["run"]] = max(last_by_run.get(event["run"], 0), micros(event["timestamp"]))

    failures = sorted((e for e in content if is_failure(e)), key=order_key)
    expected_first = failure_record(failures[0]) if failures else None
    got_first = report.get("first_failure")
    if expected_first is None or got_first is None:
        if expected_first != got_first:
            problems.append(f"first_failure: expected {expected_first}, got {got_first}")
    else:
        for key, value in expected_first.items():
            if got_first.get(key) != value:
                problems.append(f"first_failure.{key}: expected {value!r}, got {got_first.get(key)!r}")

    by_host = {}
    for event in failures:
        by_host.setdefault(event["host"], failure_record(event))
    got_by_host = report.get("first_failure_by_host", {})
    if set(by_host) != set(got_by_host):
        problems.append(f"first_failure_by_host: hosts {sorted(by_host)} expected, got {sorted(got_by_host)}")
    for host, expected in by_host.items():
        for key, value in expected.items():
            if got_by_host.get(host, {}).get(key) != value:
                problems.append(f"first_failure_by_host[{host}].{key}: expected {value!r}, got {got_by_host.get(host, {}).get(key)!r}")

    for section, kind, name_key, bad, start, end, seconds in [
            ("breaker_intervals", "breaker.state_changed", "breaker", "open", "opened_at", "closed_at", "open_seconds"),
            ("unhealthy_intervals", "health.changed", "check", "unhealthy", "unhealthy_at", "recovered_at", "unhealthy_seconds")]:
        expected = intervals(content, kind, name_key, bad, last_by_run)
        got = [(p[name_key], p["host"], p["run"], p[start], p[end], round(p[seconds] * 1_000_000)) for p in report.get(section, [])]
        if expected != got:
            problems.append(f"{section}: expected {len(expected)}, got {len(got)}")
            for left, right in zip(expected, got):
                if left != right:
                    problems.append(f"  first difference: expected {left}, got {right}")
                    break

    if problems:
        print("\n".join(problems))
        return 1
    print(f"post-mortem sections match: {len(events)} events, {len(failures)} failures, "
          f"{len(report.get('breaker_intervals', []))} breaker and {len(report.get('unhealthy_intervals', []))} unhealthy intervals")
    return 0


if __name__ == "__main__":
    sys.exit(main())
