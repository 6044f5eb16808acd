"""How much a second thread gives on this machine: the limit of any two-thread speedup.

Run: ``python benchmarks/scaling.py [threads]`` (default: NUMBA_NUM_THREADS).
Each thread runs fastnn's sigmoid kernel over its own small array, which
stays in its core's cache, so nothing is shared and nothing waits for memory:
on free cores, n threads do n times the work of one in the same time. On a
shared virtual machine, where two "cores" can be two halves of one physical
core or be lent to other guests, they do less, and so does every chunked
kernel of fastnn. Prints the medians of 5 rounds, one thread and n threads
alternating.
"""

import statistics
import sys
import threading
import time

import numpy as np
from numba.core import config as numba_config

from fastnn._kernels import rows

CALLS = 500  # of 256 x 32 sigmoids each, about 20 microseconds a call here: the call itself is a few percent


def _work(A, b, S):
    for _ in range(CALLS):
        rows.bias_sigmoid_rows(A, b, S)


def _seconds(count, arrays):
    threads = [threading.Thread(target=_work, args=arrays[i]) for i in range(count)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def main(count):
    rng = np.random.default_rng(0)
    b = np.zeros((1, 32))
    arrays = [(rng.standard_normal((256, 32)), b, np.empty((256, 32))) for _ in range(count)]
    rows.bias_sigmoid_rows(*arrays[0])  # compile first
    one, many = [], []
    for _ in range(5):
        one.append(_seconds(1, arrays))
        many.append(_seconds(count, arrays))
    one, many = statistics.median(one), statistics.median(many)
    print(
        f"one thread: {one * 1e3:.1f} ms for {CALLS} calls; {count} threads: {many * 1e3:.1f} ms for {CALLS} calls each; "
        f"{count} threads do {count * one / many:.2f} times the work of one (ideal {count})"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else numba_config.NUMBA_NUM_THREADS)
