#!/usr/bin/env python3
"""Replay peers that users reach for: DuckDB and Polars, on the same gzip log, computing the
same sections as `hardening replay --format json` does for its core: per operation count,
errors, mean, min, max, p50/p90/p99 of `timing.recorded`; retries per operation (failed
attempts, successes after retry, give-ups by reason); breaker transitions; events by kind.

  python3 tools/bench/peers_replay_columnar.py duckdb FILE [--threads 2]
  python3 tools/bench/peers_replay_columnar.py polars FILE

Prints one line `peer_replay_<name> events=N seconds=S events_per_second=R operations=K`; the
time includes starting the engine, reading and inflating the file, and every query (not the
interpreter's own start, which `tools/bench/replay.sh` times with the whole process).
"""
import sys
import time

ATTRS = ["operation", "duration_ms", "outcome", "reason", "breaker", "from", "to"]


def duckdb_peer(path, threads):
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET threads={threads}")
    struct = ", ".join(f'"{name}" {"DOUBLE" if name == "duration_ms" else "VARCHAR"}' for name in ATTRS)
    con.execute(f"""CREATE TEMP TABLE e AS SELECT event, attrs.operation AS operation, attrs.duration_ms AS duration_ms,
        attrs.outcome AS outcome, attrs.reason AS reason, attrs.breaker AS breaker, attrs."from" AS f, attrs."to" AS t
        FROM read_ndjson('{path}', columns={{'event': 'VARCHAR', 'attrs': 'STRUCT({struct})'}})""")
    operations = con.execute("""SELECT operation, count(*), count(*) FILTER (WHERE outcome = 'error'), avg(duration_ms),
        min(duration_ms), max(duration_ms), quantile_cont(duration_ms, [0.5, 0.9, 0.99])
        FROM e WHERE event = 'timing.recorded' GROUP BY operation""").fetchall()
    kinds = con.execute("SELECT event, count(*) FROM e GROUP BY event").fetchall()
    con.execute("""SELECT operation, count(*) FILTER (WHERE event = 'retry.attempt_failed'),
        count(*) FILTER (WHERE event = 'retry.succeeded') FROM e WHERE event LIKE 'retry.%' GROUP BY operation""").fetchall()
    con.execute("SELECT operation, reason, count(*) FROM e WHERE event = 'retry.exhausted' GROUP BY operation, reason").fetchall()
    con.execute("SELECT breaker, f, t, count(*) FROM e WHERE event = 'breaker.state_changed' GROUP BY breaker, f, t").fetchall()
    return sum(count for _, count in kinds), len(operations), time.perf_counter() - start


def polars_peer(path):
    import gzip
    import io

    import polars as pl

    start = time.perf_counter()
    fields = {name: (pl.Float64 if name == "duration_ms" else pl.Utf8) for name in ATTRS}
    with gzip.open(path, "rb") as file:
        raw = file.read()
    frame = pl.read_ndjson(io.BytesIO(raw), schema={"event": pl.Utf8, "attrs": pl.Struct(fields)}).unnest("attrs")
    timings = frame.filter(pl.col("event") == "timing.recorded")
    operations = timings.group_by("operation").agg(
        pl.len().alias("count"), (pl.col("outcome") == "error").sum().alias("errors"), pl.col("duration_ms").mean(),
        pl.col("duration_ms").min().alias("min"), pl.col("duration_ms").max().alias("max"),
        pl.col("duration_ms").quantile(0.5).alias("p50"), pl.col("duration_ms").quantile(0.9).alias("p90"),
        pl.col("duration_ms").quantile(0.99).alias("p99"))
    kinds = frame.group_by("event").agg(pl.len())
    retries = frame.filter(pl.col("event").str.starts_with("retry."))
    retries.group_by("operation").agg((pl.col("event") == "retry.attempt_failed").sum().alias("failed"),
                                      (pl.col("event") == "retry.succeeded").sum().alias("succeeded"))
    retries.filter(pl.col("event") == "retry.exhausted").group_by("operation", "reason").agg(pl.len())
    frame.filter(pl.col("event") == "breaker.state_changed").group_by("breaker", "from", "to").agg(pl.len())
    return int(kinds["len"].sum()), operations.height, time.perf_counter() - start


def main():
    name, path = sys.argv[1], sys.argv[2]
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
    events, operations, seconds = duckdb_peer(path, threads) if name == "duckdb" else polars_peer(path)
    print(f"peer_replay_{name} events={events} seconds={seconds} events_per_second={events / seconds} operations={operations}")


if __name__ == "__main__":
    main()
