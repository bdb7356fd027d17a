#!/usr/bin/env python3
"""tenacity's @retry and pybreaker's call on the success path, in ns per call (pip install
tenacity pybreaker). Prints `peer_primitives_ns bare=… tenacity=… pybreaker=…`."""
import time

import pybreaker
import tenacity


def bare(value):
    return value + 1


@tenacity.retry(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_exponential(multiplier=0.1, max=10))
def retried(value):
    return value + 1


def measure(function, calls):
    start = time.perf_counter_ns()
    for index in range(calls):
        function(index)
    return (time.perf_counter_ns() - start) / calls


breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)
calls = 200_000
print(f"peer_primitives_ns calls={calls} bare={measure(bare, calls):.1f} "
      f"tenacity={measure(retried, calls):.1f} pybreaker={measure(lambda v: breaker.call(bare, v), calls):.1f}")
