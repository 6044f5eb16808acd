"""The plan: which path a shape takes, on machines of each kind."""

import numpy as np


def test_the_work_bound_of_the_row_path_follows_the_width_of_numpys_blas(monkeypatch):
    """With BLAS kernels as wide as the kernels' the row path starts from
    EVEN_BLAS_MIN_WORK (float64) or EVEN_BLAS_MIN_WORK_32 (float32); with
    OpenBLAS's AVX2 kernels on an AVX-512 CPU, from BLAS_MIN_WORK."""
    import llvmlite.binding
    import threadpoolctl
    from llvmlite.binding.targets import FeatureMap

    from fastnn import _paths, _threads

    def machine(avx512, architecture):
        info = [{"user_api": "blas", "internal_api": "openblas", "architecture": architecture}]
        monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: info)
        monkeypatch.setattr(llvmlite.binding, "get_host_cpu_features", lambda: FeatureMap(avx512f=avx512, avx2=True))
        monkeypatch.setattr(_threads.numba_config, "CPU_FEATURES", None)  # the host's, as Numba's default
        monkeypatch.delitem(_threads._blas, "narrow", raising=False)

    shapes = [(1000, (64, 128, 4)), (64, (100, 256, 1))]  # 8.7 and 1.7 million multiply-adds
    machine(True, "SkylakeX")
    assert not _threads.narrow_blas()
    assert [_paths.plan(n, sizes, np.float32) for n, sizes in shapes] == ["rows", "rows"]
    assert [_paths.plan(n, sizes, np.float64) for n, sizes in shapes] == ["rows", "packed"]
    # Narrow layers stay packed: 200,000 x 2, hidden 2 took 4.2x the time on rows.
    assert _paths.plan(200_000, (2, 2, 1), np.float32) == "packed"
    machine(True, "Haswell")
    assert _threads.narrow_blas()
    assert [_paths.plan(n, sizes, dtype) for n, sizes in shapes for dtype in (np.float32, np.float64)] == ["packed"] * 4
    machine(False, "Haswell")  # an AVX2 CPU: as wide as the kernels
    assert not _threads.narrow_blas()
    assert _paths.plan(1000, (64, 128, 4), np.float64) == "rows"
    machine(True, "Haswell")
    monkeypatch.setattr(_threads.numba_config, "CPU_FEATURES", "+avx2,-avx512f")  # kernels told to stay on AVX2
    assert not _threads.narrow_blas()
