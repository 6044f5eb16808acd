"""The benchmark report: the Markdown table and the chart from pytest-benchmark's JSON."""

import json

import pytest
import report


def test_report_table_from_benchmark_json():
    def bench(group, impl, median, epochs=None, **extra):
        info = dict(impl=impl, **extra)
        if epochs:
            info["epochs"] = epochs
        return {"group": group, "name": f"test[{group}-{impl}]", "stats": {"median": median}, "extra_info": info}

    data = {
        "machine_info": {"cpu": {"brand_raw": "Test CPU", "count": 2}, "python_version": "3.11.7"},
        "benchmarks": [
            bench("xor", "reference", 0.8, 10_000),
            bench("xor", "fastnn", 0.002, 10_000),
            bench("xor", "jax", 0.005, 10_000),
            bench("large", "reference", 3.0, 3, flops_per_epoch=10e9, dtype="float64"),
            bench("large", "fastnn", 0.75, 3, flops_per_epoch=10e9, dtype="float64"),
            bench("matmul", "numpy float64", 0.1, flops=5e9, dtype="float64"),
            bench("startup", "reference", 1.2, cache="none"),
            bench("startup", "fastnn", 1.0, cache="warm"),
        ],
    }
    table = report.markdown(json.loads(json.dumps(data)))
    lines = table.splitlines()
    assert lines[0].startswith("Machine: Test CPU, 2 cores; Python 3.11.7")
    assert "| xor | reference | 800 ms | 80 us |  |  | 1.0x | 400.0x |" in lines
    assert "| xor | fastnn | 2 ms | 200 ns |  |  | 400.0x | 1.0x |" in lines
    assert "| xor | jax | 5 ms | 500 ns |  |  | 160.0x | 2.5x |" in lines
    # 10 GFLOP in 0.25 s an epoch: 40 GFLOP/s, 80% of the 50 GFLOP/s of the matrix product
    assert "| large | fastnn | 750 ms | 250 ms | 40.0 | 80% | 4.0x | 1.0x |" in lines
    # A product timed beside the benchmark's own rounds is the one it is compared with.
    data["benchmarks"][4]["extra_info"]["matmul_gflops"] = 80.0
    assert "| large | fastnn | 750 ms | 250 ms | 40.0 | 50% | 4.0x | 1.0x |" in report.markdown(data).splitlines()
    assert "| matmul | numpy float64 | 100 ms |  | 50.0 |  |  |  |" in lines
    assert "| startup | fastnn (warm) | 1 s |  |  |  | 1.2x |  |" in lines


def test_report_chart_is_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    data = {
        "machine_info": {"cpu": {"brand_raw": "Test CPU"}},
        "benchmarks": [
            {"group": g, "name": f"{g}-{i}", "stats": {"median": m}, "extra_info": {"impl": i, "epochs": 10}}
            for g, i, m in [("xor", "reference", 1.0), ("xor", "fastnn", 0.004), ("xor", "jax", 0.02),
                            ("large", "reference", 3.0), ("large", "fastnn", 0.6)]
        ],
    }
    path = tmp_path / "speedup.png"
    report.chart(data, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_blas_name_is_numpys_among_the_loaded_ones_and_says_what_it_does_not_know():
    from report import blas_name, machine

    from fastnn._threads import numpy_blas

    def named(libraries, build):
        return blas_name(numpy_blas(libraries, build))

    scipys = {"user_api": "blas", "internal_api": "openblas", "version": "0.3.27", "prefix": "libscipy_openblas",
              "filepath": "/env/scipy.libs/libscipy_openblas.so", "architecture": "SkylakeX"}
    system = {"user_api": "blas", "internal_api": "openblas", "version": "0.3.21", "prefix": "libopenblas",
              "filepath": "/opt/conda/lib/libopenblas.so", "architecture": "Haswell"}
    wheel = dict(scipys, filepath="/env/numpy.libs/libscipy_openblas64_.so", version="0.3.31")
    openmp = {"user_api": "openmp", "internal_api": "openmp", "prefix": "libgomp", "filepath": "/env/libgomp.so"}
    built_with = {"Build Dependencies": {"blas": {"name": "openblas"}}}
    assert named([openmp, scipys, wheel], {}) == "openblas 0.3.31, SkylakeX kernels"  # inside NumPy's package
    assert named([scipys, system], built_with) == "openblas 0.3.21, Haswell kernels"  # the one NumPy was built with
    assert named([scipys, system], {}) == "openblas 0.3.27, SkylakeX kernels"  # else the first
    mkl = {"user_api": "blas", "internal_api": "mkl", "version": "2024.2", "prefix": "libmkl_rt", "filepath": "/x"}
    assert named([mkl], {}) == "mkl 2024.2"  # no kernels named
    assert named([openmp], built_with) == "unknown BLAS"
    assert named([], {}) == "unknown BLAS"
    assert set(machine()) == {"llvm", "blas"}
