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
        monkeypatch.setattr(_threads, "gemm_address", lambda dtype: 0)  # the rule for a few rows of wide layers: below

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


def test_a_few_rows_of_wide_layers_take_the_row_path_where_it_is_one_compiled_call(monkeypatch):
    """FEW_ROWS to SMALL_BLAS_ROWS samples of layers wider than SMALL_BLAS_MIN_WIDTH take the row path at any work
    where rows.train_blas can call NumPy's BLAS and the BLAS is as wide as the kernels; otherwise the work bounds."""
    from fastnn import _config, _paths, _threads

    monkeypatch.setattr(_threads, "narrow_blas", lambda: False)
    shapes = [(16, (100, 256, 1)), (64, (64, 128, 4)), (128, (32, 32, 16)), (64, (8, 512, 1))]
    for address, expected in [(1, "rows"), (0, "packed")]:
        monkeypatch.setattr(_threads, "gemm_address", lambda dtype: address)
        assert [_paths.plan(n, sizes, np.float64) for n, sizes in shapes] == [expected] * 4
    monkeypatch.setattr(_threads, "gemm_address", lambda dtype: 1)
    assert _paths.plan(4, (100, 256, 1), np.float32) == "few"  # fewer than FEW_ROWS: the few-rows kernel
    assert _paths.plan(64, (16, 16, 10), np.float32) == "packed"  # width 416
    assert _paths.plan(256, (8, 512, 1), np.float64) == "packed"  # past SMALL_BLAS_ROWS, under EVEN_BLAS_MIN_WORK
    assert _paths.plan(64, (1000, 64, 1), np.float32) == "packed"  # one block of many features: cut across the units
    assert _paths.plan(64, (1, 2048, 1), np.float32) == "packed"  # one input: np.matmul's products are no gemms
    assert _paths.plan(64, (2000, 1, 1), np.float32) == "packed"  # nor with one hidden unit
    monkeypatch.setattr(_config, "ROWS_COMPILED", False)  # the chunks in Python: slower than the packed blocks here
    assert _paths.plan(64, (64, 128, 4), np.float32) == "packed"
    monkeypatch.setattr(_config, "ROWS_COMPILED", True)
    monkeypatch.setattr(_threads, "narrow_blas", lambda: True)
    assert _paths.plan(64, (64, 128, 4), np.float32) == "packed"
