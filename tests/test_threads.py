"""threads.py: work over threads in order, and an error or Ctrl-C stops it without doing the rest."""

import threading

import pytest

from petclf.threads import map_in_threads


@pytest.mark.parametrize("workers", [1, 2, 8])
def test_results_come_in_the_order_of_the_items(workers):
    assert map_in_threads(lambda n: n * n, range(100), workers) == [n * n for n in range(100)]


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError])
def test_an_interruption_leaves_the_rest_of_the_items_undone(stop):
    done, lock = [], threading.Lock()

    def work(n):
        if n == 5:
            raise stop()
        with lock:
            done.append(n)

    with pytest.raises(stop):
        map_in_threads(work, range(10_000), workers=2)
    assert len(done) <= 5 + 2 * 2 + 2  # what was queued or running when item 5 failed, not 10,000
