"""Data on disk and on a cluster: memory and throughput from a memory-mapped file, the Dask path's overhead.

    python benchmarks/scale_out.py memory [--rows 10000000]   # anonymous memory, a 1.2 GB file
    python benchmarks/scale_out.py file [--rows 2000000]      # epochs from a file, cached and not, against memory
    python benchmarks/scale_out.py dask [--rows 1000000]      # epochs on a 2-worker LocalCluster against memory

Each prints a table (medians) with the CPU's name. `memory` runs each case
in a process of its own and samples /proc/self/status's RssAnon every 5 ms
(file pages of the mapping are RssFile, not anonymous). `file` drops the
file's pages from the page cache for the uncached runs with
/proc/sys/vm/drop_caches if it may, else posix_fadvise(DONTNEED).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import fastnn  # noqa: E402
from fastnn import datasets  # noqa: E402
from fastnn.__main__ import _cpu_name  # noqa: E402


def rss_anon():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024


def _peak_while(call):
    peak, done = [rss_anon()], threading.Event()

    def sample():
        while not done.wait(0.005):
            peak[0] = max(peak[0], rss_anon())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        call()
    finally:
        done.set()
        thread.join()
    return max(peak[0], rss_anon())


def _memory_case(path, dtype, batch):
    """In a process of its own: RssAnon at the start (fastnn imported, kernels loaded) and its peak while training."""
    X, y = np.load(os.path.join(path, "X.npy"), mmap_mode="r"), np.load(os.path.join(path, "y.npy"), mmap_mode="r")
    net = fastnn.SimpleNeuralNetwork(X.shape[1], 16, 1, seed=0, dtype=np.dtype(dtype))
    net.train(X[:20_000], y[:20_000], 1, 1e-6, verbose=False, batch_size=batch)  # the kernels, before the start
    net.predict_proba(X[:20_000])
    start = rss_anon()
    began = time.perf_counter()
    peak = _peak_while(lambda: net.train(X, y, 1, 1e-7, verbose=False, batch_size=batch))
    seconds = time.perf_counter() - began
    print(json.dumps({"start": start, "peak": peak, "seconds": seconds, "file": X.nbytes, "file_dtype": str(X.dtype)}))


def memory(args):
    rows = args.rows
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        cases = []
        for file_dtype, features in (("float32", 30), ("float64", 15)):
            path = os.path.join(tmp, file_dtype)
            began = time.perf_counter()
            datasets.make_xor(rows, features, noise=0.1, seed=0, dtype=file_dtype, out=path)
            print(f"wrote {rows:,} x {features} {file_dtype} ({rows * features * np.dtype(file_dtype).itemsize / 1e9:.2f} GB) "
                  f"in {time.perf_counter() - began:.1f} s", flush=True)
            for batch in (None, 256):
                cases.append((path, file_dtype, batch))
        print(f"\n{_cpu_name()}, {os.cpu_count()} cores; float32 network, hidden 16, one epoch")
        print("| file | batch | file size | RssAnon at start | peak beyond start | epoch |")
        print("|---|---|---|---|---|---|")
        for path, file_dtype, batch in cases:
            code = f"import sys; sys.path.insert(0, {HERE!r}); import scale_out; scale_out._memory_case({path!r}, 'float32', {batch!r})"
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"| {file_dtype} | {batch or 'full'} | {r['file'] / 1e9:.2f} GB | {r['start'] / 1e6:.0f} MB | "
                  f"{(r['peak'] - r['start']) / 1e6:.0f} MB | {r['seconds']:.1f} s |", flush=True)


def _drop_cache(path):
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
        return "drop_caches"
    except OSError:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        return "posix_fadvise(DONTNEED)"


def file(args):
    rows, features, repeats = args.rows, 30, args.repeats
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        datasets.make_xor(rows, features, noise=0.1, seed=0, dtype="float32", out=tmp)
        paths = [os.path.join(tmp, name) for name in ("X.npy", "y.npy")]
        Xmem, ymem = (np.load(p) for p in paths)
        print(f"{_cpu_name()}, {os.cpu_count()} cores; {rows:,} x {features} float32 ({Xmem.nbytes / 1e6:.0f} MB), "
              f"float32 network, hidden 16; one train() call, its checks included; median of {repeats}")
        print("| batch | epochs | in memory | file, cached | file, uncached | uncached: pages dropped by |")
        print("|---|---|---|---|---|---|")
        for batch in (None, 256):
            for epochs in (1, 3):
                times = {"memory": [], "cached": [], "uncached": []}
                how = ""
                for _ in range(repeats):
                    for case in times:
                        if case == "uncached":
                            how = _drop_cache(paths[0])
                        X, y = (Xmem, ymem) if case == "memory" else (np.load(p, mmap_mode="r") for p in paths)
                        net = fastnn.SimpleNeuralNetwork(features, 16, 1, seed=0, dtype=np.float32)
                        began = time.perf_counter()
                        net.train(X, y, epochs, 1e-7, verbose=False, batch_size=batch)
                        times[case].append(time.perf_counter() - began)
                        del X, y
                m = {k: statistics.median(v) for k, v in times.items()}
                print(f"| {batch or 'full'} | {epochs} | {m['memory']:.2f} s | {m['cached']:.2f} s "
                      f"({m['cached'] / m['memory']:.2f}x) | {m['uncached']:.2f} s ({m['uncached'] / m['memory']:.2f}x) | {how} |",
                      flush=True)


def dask(args):
    import distributed

    from fastnn import _config, _paths
    from fastnn import dask as fdask

    rows, features, hidden, chunk, epochs = args.rows, 20, 32, args.chunk, args.epochs
    X, y = datasets.make_xor(rows, features, noise=0.1, seed=0)
    # The kernels, compiled here first: the workers read them from the cache.
    warm = fastnn.SimpleNeuralNetwork(features, hidden, 1, seed=0)
    with _config.override(BLAS_MIN_WORK=0):
        warm.train(X[:1000], y[:1000], 1, 1e-6, verbose=False)
    net = fastnn.SimpleNeuralNetwork(features, hidden, 1, seed=0)
    net.train(X, y, 1, 1e-6, verbose=False)

    def per_epoch(net, X, y):
        net.train(X, y, 1, 1e-6, verbose=False)  # persist, compile
        began = time.perf_counter()
        net.train(X, y, epochs, 1e-6, verbose=False)
        return (time.perf_counter() - began) / epochs

    memory_epoch = statistics.median(per_epoch(fastnn.SimpleNeuralNetwork(features, hidden, 1, seed=0), X, y) for _ in range(3))
    # One chunk's sums on one thread: what a worker does per task.
    params, rule = net._params(), _paths._rule(net, True)
    Xc, yc = np.ascontiguousarray(X[:chunk]), np.ascontiguousarray(y[:chunk])
    fdask.chunk_sums(Xc, yc, params, rule)
    chunk_times = []
    for _ in range(7):
        began = time.perf_counter()
        fdask.chunk_sums(Xc, yc, params, rule)
        chunk_times.append(time.perf_counter() - began)
    chunk_time = statistics.median(chunk_times)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                                  host="127.0.0.1") as cluster, distributed.Client(cluster):
        import dask.array as da

        Xd, yd = da.from_array(X, chunks=(chunk, -1)), da.from_array(y, chunks=(chunk, -1))
        Xd, yd = Xd.persist(), yd.persist()
        dask_epochs = [per_epoch(fastnn.SimpleNeuralNetwork(features, hidden, 1, seed=0), Xd, yd) for _ in range(3)]
        # The round trip of one epoch with chunks that do almost nothing: the per-task cost.
        tiny = da.from_array(X[: 64 * (rows // chunk)], chunks=(64, -1)).persist()
        tiny_y = da.from_array(y[: 64 * (rows // chunk)], chunks=(64, -1)).persist()
        tiny_epoch = statistics.median(per_epoch(fastnn.SimpleNeuralNetwork(features, hidden, 1, seed=0), tiny, tiny_y)
                                       for _ in range(3))
    dask_epoch = statistics.median(dask_epochs)
    n_chunks = -(-rows // chunk)
    print(f"{_cpu_name()}, {os.cpu_count()} cores; {rows:,} x {features} float64, hidden {hidden}; "
          f"chunks of {chunk:,} rows ({n_chunks}); medians")
    print("| | time |")
    print("|---|---|")
    print(f"| epoch in memory (2 threads) | {memory_epoch * 1e3:.1f} ms |")
    print(f"| epoch on a 2-worker LocalCluster | {dask_epoch * 1e3:.1f} ms ({dask_epoch / memory_epoch:.2f}x) |")
    print(f"| one chunk's sums, one thread | {chunk_time * 1e3:.1f} ms ({chunk_time / chunk * 1e9:.0f} ns a row) |")
    print(f"| epoch of {n_chunks} near-empty chunks on the cluster (the round trip) | {tiny_epoch * 1e3:.1f} ms "
          f"({tiny_epoch / n_chunks * 1e3:.2f} ms a task) |")
    # On paper: a billion rows, on machines of 2 cores each (one worker a core).
    # The per-task cost is measured through one client and one scheduler, on
    # this loaded 2-core machine that also runs them: an upper bound.
    per_row, per_task = chunk_time / chunk, tiny_epoch / n_chunks
    sums_bytes = 8 * (features * hidden + hidden + hidden + 1)
    print(f"\nOn paper, 1e9 rows x {features}, hidden {hidden}: compute {per_row * 1e9:.0f} ns a row on one core, "
          f"{per_task * 1e3:.1f} ms a task to schedule and gather, {sums_bytes:,} bytes of sums a task")
    print("| machines (2 cores) | chunk rows | tasks | compute | tasks' overhead | epoch |")
    print("|---|---|---|---|---|---|")
    for machines in (10, 100):
        for rows_per_chunk in (10**6, 10**7):
            tasks = -(-10**9 // rows_per_chunk)
            waves = -(-tasks // (machines * 2))  # tasks per worker
            compute = waves * rows_per_chunk * per_row
            overhead = tasks * per_task
            print(f"| {machines} | {rows_per_chunk:,} | {tasks:,} | {compute:.1f} s | {overhead:.1f} s | "
                  f"{compute + overhead:.1f} s |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["memory", "file", "dask"])
    parser.add_argument("--rows", type=int)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--dir", default=None, help="where the temporary files go (default: the system's)")
    args = parser.parse_args()
    args.rows = args.rows or {"memory": 10_000_000, "file": 2_000_000, "dask": 1_000_000}[args.what]
    {"memory": memory, "file": file, "dask": dask}[args.what](args)


if __name__ == "__main__":
    main()
