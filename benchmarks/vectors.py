"""Which vector registers the compiled kernels use on this CPU: the check that the loops vectorize as wide as it allows.

    python benchmarks/vectors.py

Trains a small network of each dtype on each path (so that the kernels are
compiled for this machine), then counts, in the machine code of each
compiled kernel, the instructions on xmm (128-bit), ymm (256-bit) and zmm
(512-bit) registers. On an AVX2 CPU the loops should use ymm; on an AVX-512
one, LLVM picks zmm or ymm by its cost model for that CPU (on several of
them it prefers 256-bit vectors, whose clock speed is higher).
"""

import os
import re
import sys
import tempfile

REGISTERS = re.compile(r"%([xyz])mm\d+")


def warm():
    import numpy as np

    import fastnn
    from fastnn import _config

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        for n, f, h, o, settings in [(300, 5, 8, 1, {}), (8, 5, 16, 1, {}), (300, 5, 8, 1, {"BLAS_MIN_WORK": 0}),
                                     (300, 5, 8, 3, {"BLAS_MIN_WORK": 0}), (600, 5, 8, 1, {"STREAM_MIN_WORK": 0})]:
            X = rng.standard_normal((n, f)).astype(dtype)
            Y = (rng.random((n, o)) > 0.5).astype(dtype)
            with _config.override(**settings):
                fastnn.SimpleNeuralNetwork(f, h, o, dtype=dtype, seed=0).train(X, Y, 2, 0.1, verbose=False)


def counts(dispatcher):
    """{signature: {"x": n, "y": n, "z": n}} for each compiled signature of a kernel."""
    found = {}
    for signature in dispatcher.signatures:
        asm = dispatcher.inspect_asm(signature)
        tally = {"x": 0, "y": 0, "z": 0}
        for line in asm.splitlines():
            registers = REGISTERS.findall(line)
            if registers:
                tally[max(registers)] += 1  # the widest register of the instruction
        found[signature] = tally
    return found


def main():
    # Numba shows no machine code for a kernel loaded from its cache: compile
    # afresh, into a cache of our own (read when Numba is first imported).
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="fastnn-vectors-")
    import llvmlite.binding as llvm

    from fastnn._kernels import packed, rows, stream

    warm()
    print(f"CPU: LLVM {llvm.get_host_cpu_name()}; features: " + " ".join(
        f for f in ("avx2", "avx512f", "fma") if f"+{f}" in llvm.get_host_cpu_features().flatten()))
    print("| kernel | dtype | xmm | ymm | zmm |")
    print("|---|---|---:|---:|---:|")
    for name, kernel in [("packed.train", packed.train), ("rows.train", rows.train), ("rows.hidden_rows", rows.hidden_rows),
                         ("rows.output_rows", rows.output_rows), ("rows.hidden_delta_rows", rows.hidden_delta_rows),
                         ("stream.train_batches", stream.train_batches)]:
        for signature, tally in counts(kernel).items():
            dtype = "float32" if "float32" in str(signature[0]) else "float64"
            print(f"| {name} | {dtype} | {tally['x']} | {tally['y']} | {tally['z']} |")


if __name__ == "__main__":
    sys.exit(main())
