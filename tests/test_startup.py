"""Time to first result: importing fastnn compiles nothing, the tutorial's script loads only what it runs, and a compilation is announced."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

import fastnn
from fastnn._kernels import COMPILING

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from numba.core.registry import CPUDispatcher
    import numpy as np
    before = {name.split(".")[0] for name in sys.modules}
    from fastnn import SimpleNeuralNetwork
    from fastnn._kernels import _math, packed, rows, stream, tiny
    added = sorted({name.split(".")[0] for name in sys.modules} - before - set(sys.stdlib_module_names))

    def compiled():
        return sorted(
            f"{module.__name__.split('.')[-1]}.{name}{[str(t) for t in signature]}"
            for module in (_math, tiny, packed, rows, stream)
            for name, kernel in vars(module).items() if isinstance(kernel, CPUDispatcher)
            for signature in kernel.signatures
        )

    after_import = compiled()
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([[0], [1], [1], [0]])
    nn = SimpleNeuralNetwork(input_size=2, hidden_size=2, output_size=1)
    nn.train(X, y, epochs=10000, learning_rate=0.1)
    output = nn.forward(X)
    labels = nn.predict(X), nn.score(X, y)  # training's kernel serves: nothing more compiled
    print(json.dumps({"after_import": after_import, "after_script": compiled(), "added": added}))
    """
)


def test_the_tutorial_script_compiles_or_loads_only_its_kernel():
    # The inherited NUMBA_CACHE_DIR: compiled on the first run, loaded after.
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["after_import"] == []
    kernels = {entry.split("[")[0] for entry in report["after_script"]}
    # The tutorial's network runs tiny.train, which calls no other kernel of fastnn's.
    assert kernels == {"tiny.train"}, report["after_script"]
    assert all("float32" not in entry for entry in report["after_script"]), report["after_script"]
    assert len(report["after_script"]) == 1, report["after_script"]
    assert report["added"] == ["fastnn"]  # beyond what numba imports


def test_the_cli_says_it_compiles_before_the_wait_and_not_when_the_cache_serves(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    command = [sys.executable, "-m", "fastnn", "train", "--n-samples", "500", "--epochs", "3"]
    cold, warm = (subprocess.run(command, env=env, capture_output=True, text=True, timeout=600) for _ in range(2))
    assert cold.returncode == 0 and warm.returncode == 0, cold.stderr + warm.stderr
    lines = cold.stderr.splitlines()
    assert lines[0] == COMPILING and lines.count(COMPILING) <= 2, cold.stderr  # training's, and the score's kernel
    assert COMPILING not in warm.stderr, warm.stderr


def test_the_library_logs_a_compilation_and_prints_nothing(tmp_path):
    script = textwrap.dedent(
        """
        import logging
        import numpy as np
        import fastnn
        logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
        net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0)
        net.train(np.eye(2), np.eye(2)[:, :1], 5, 0.1, verbose=False)
        """
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    cold, warm = (subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
                  for _ in range(2))
    assert cold.returncode == 0 and warm.returncode == 0, cold.stderr + warm.stderr
    assert cold.stdout == "" and cold.stderr.splitlines() == [f"fastnn INFO {COMPILING}"], cold.stderr
    assert warm.stderr == ""


def test_read_only_fortran_and_other_dtype_inputs_compile_no_other_variant(monkeypatch):
    """Inputs are normalized to one type before the kernels: a read-only array (as a
    memory-mapped file gives), a Fortran-ordered one, float32 data for a float64 network."""
    from fastnn import _config
    from fastnn._kernels import packed, rows, stream, tiny

    X = np.random.default_rng(0).normal(size=(300, 3)).astype(np.float32).astype(np.float64)  # exact in float32
    y = (X[:, :1] > 0).astype(float)
    frozen = X.copy()
    frozen.flags.writeable = False
    variants = [frozen, np.asfortranarray(X), X.astype(np.float32)]
    for blas_min_work in (10**18, 0):  # small data, large data
        monkeypatch.setattr(_config, "BLAS_MIN_WORK", blas_min_work)

        def calls(X):
            net = fastnn.SimpleNeuralNetwork(3, 4, 1, seed=0)
            net.train(X, y, 2, 0.01, verbose=False)
            net.train(X, y, 2, 0.01, verbose=False, batch_size=16)
            small = fastnn.SimpleNeuralNetwork(3, 4, 1, seed=0)  # four rows: tiny.train
            small.train(X[:4], y[:4], 2, 0.01, verbose=False)
            return net.predict_proba(X), net.forward(X), small.forward(X[:4])

        expected = calls(X)  # compiles (or loads) the writable variants
        kernels = [tiny.train, packed.train, stream.train_batches, stream.predict, rows.hidden_rows, rows.bias_sigmoid_rows]
        before = [len(k.signatures) for k in kernels]
        for variant in variants:
            for got, want in zip(calls(variant), expected):
                np.testing.assert_array_equal(got, want)
        assert [len(k.signatures) for k in kernels] == before


def test_wide_vectors_are_asked_for_on_avx512_only_and_never_over_a_cpu_numba_was_told_of(monkeypatch):
    from types import SimpleNamespace

    from llvmlite.binding.targets import FeatureMap

    from fastnn import _kernels

    def host(**features):
        monkeypatch.setattr(_kernels.llvmlite.binding, "get_host_cpu_features", lambda: FeatureMap(features))

    host(avx2=True, avx512f=True)
    config = SimpleNamespace(CPU_NAME=None, CPU_FEATURES=None)
    assert _kernels.prefer_wide_vectors(config)
    assert config.CPU_FEATURES == "+avx2,+avx512f,-prefer-256-bit"
    host(avx2=True, avx512f=False)
    config = SimpleNamespace(CPU_NAME=None, CPU_FEATURES=None)
    assert not _kernels.prefer_wide_vectors(config) and config.CPU_FEATURES is None
    host(avx2=True, avx512f=True)
    for told in (dict(CPU_NAME="generic", CPU_FEATURES=""), dict(CPU_NAME=None, CPU_FEATURES="+avx2"),
                 dict(CPU_NAME=None, CPU_FEATURES=None, ENABLE_AVX=False)):
        config = SimpleNamespace(**told)
        assert not _kernels.prefer_wide_vectors(config)
        assert vars(config) == told


WIDTH_SCRIPT = textwrap.dedent(
    """
    import json, re
    import numba
    import numpy as np
    import fastnn

    @numba.njit(fastmath=True)
    def total(a):
        s = 0.0
        for x in a:
            s += x
        return s

    total(np.arange(1000.0))
    asm = total.inspect_asm(total.signatures[0])
    print(json.dumps({"features": numba.config.CPU_FEATURES, "zmm": len(re.findall(r"%zmm", asm))}))
    """
)


def test_after_importing_fastnn_numba_code_uses_zmm_on_avx512_unless_told_a_cpu(tmp_path):
    import llvmlite.binding

    host = llvmlite.binding.get_host_cpu_features()
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES")}
    env["NUMBA_CACHE_DIR"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-c", WIDTH_SCRIPT], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    if host.get("avx512f", False):
        assert report["features"] == host.flatten() + ",-prefer-256-bit"
        assert report["zmm"] > 0  # the sum vectorized on 512-bit registers
    else:
        assert report["features"] is None
    told = host.flatten()  # Numba's own choice for this CPU, named explicitly: kept as it is
    done = subprocess.run([sys.executable, "-c", WIDTH_SCRIPT], capture_output=True, text=True, timeout=300,
                          env=dict(env, NUMBA_CPU_FEATURES=told))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["features"] == told


def test_no_wide_vectors_once_numba_has_made_its_code_generator(tmp_path):
    script = textwrap.dedent(
        """
        import numba
        numba.njit(lambda x: x + 1)(1)  # Numba's code generator is made here
        from fastnn import _kernels
        print(numba.config.CPU_FEATURES, _kernels.prefer_wide_vectors())
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env=dict(env, NUMBA_CACHE_DIR=str(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "False"]  # nothing recorded that would not be in effect
