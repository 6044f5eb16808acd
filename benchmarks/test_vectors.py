"""benchmarks/vectors.py's register count, on a loop compiled here (the script itself compiles every kernel afresh)."""

import llvmlite.binding as llvm
import numba
import numpy as np
import vectors


def test_a_vectorized_loop_counts_vector_registers():
    @numba.njit(fastmath=True)
    def total(a):
        s = 0.0
        for x in a:
            s += x
        return s

    a = np.arange(1000.0)
    assert total(a) == a.sum()
    (tally,) = vectors.counts(total).values()
    assert set(tally) == {"x", "y", "z"}
    if "+avx2" in llvm.get_host_cpu_features().flatten():
        assert tally["y"] + tally["z"] > 0  # the vectorized sum runs on 256- or 512-bit registers
    else:
        assert tally["x"] > 0
