"""Work spread over threads that Ctrl-C stops promptly: ``ThreadPoolExecutor.map`` queues every
item at once, and leaving its ``with`` block then waits for all of them (a folder of 100,000
images kept decoding for minutes after Ctrl-C)."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item, Result = TypeVar("Item"), TypeVar("Result")


def map_in_threads(work: Callable[[Item], Result], items: Iterable[Item], workers: int | None = None) -> list[Result]:
    """``[work(item) for item in items]`` on ``workers`` threads (default: one per core), in order,
    with at most two items a thread queued: an error or Ctrl-C ends it once the running ones do."""
    workers = workers or os.cpu_count() or 1
    pool = ThreadPoolExecutor(workers)
    results, pending = [], deque()
    try:
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) >= 2 * workers:
                results.append(pending.popleft().result())
        results.extend(future.result() for future in pending)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results
