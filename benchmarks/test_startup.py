"""Time to first result: the tutorial's whole script as a new process.

The reference, and fastnn with an empty Numba cache (cold: everything is
compiled) and with a filled one (warm: compiled code is loaded). Each round is
a fresh interpreter; the cold rounds each get an empty cache directory.
"""

import os
import subprocess
import sys
import tempfile

import pytest

SCRIPT = """\
import numpy as np
from {module} import SimpleNeuralNetwork
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
y = np.array([[0], [1], [1], [0]])
nn = SimpleNeuralNetwork(input_size=2, hidden_size=2, output_size=1)
nn.train(X, y, epochs=10000, learning_rate=0.1)
output = nn.forward(X)
print("Predictions:")
print(output)
"""
MODULES = {"reference": "fastnn.reference", "fastnn": "fastnn"}


def _run(script, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True)


@pytest.mark.parametrize("impl,cache", [("reference", "none"), ("fastnn", "warm"), ("fastnn", "cold")])
def test_tutorial_script(benchmark, tmp_path, impl, cache):
    script = SCRIPT.format(module=MODULES[impl])
    benchmark.group = "startup"
    benchmark.extra_info.update(impl=impl, cache=cache)
    if cache == "cold":

        def empty_cache():
            return (script, tempfile.mkdtemp(dir=tmp_path)), {}

        benchmark.pedantic(_run, setup=empty_cache, rounds=3, iterations=1)
    else:
        _run(script, str(tmp_path))  # fills the cache for the warm rounds
        benchmark.pedantic(_run, args=(script, str(tmp_path)), rounds=7, iterations=1)
