"""Time to first result: whole processes, as a user starts them.

- the tutorial's script with the plain NumPy network defined in it (it
  imports nothing of fastnn: ``fastnn.reference`` would import Numba through
  ``fastnn/__init__``), and with ``from fastnn import SimpleNeuralNetwork``,
  with an empty Numba cache (cold: everything is compiled) and a filled one
  (warm: compiled code is loaded);
- ``fastnn compile`` with an empty cache;
- the README's moons command, cold and warm.

Each round is a fresh interpreter; the cold rounds each get an empty cache
directory.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

MAIN = """\
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
y = np.array([[0], [1], [1], [0]])
nn = SimpleNeuralNetwork(input_size=2, hidden_size=2, output_size=1)
nn.train(X, y, epochs=10000, learning_rate=0.1)
output = nn.forward(X)
print("Predictions:")
print(output)
"""
# The plain script: the tutorial's class and functions (fastnn/reference.py, which imports NumPy alone), then its Step 7.
PLAIN = (Path(__file__).resolve().parent.parent / "fastnn" / "reference.py").read_text() + "\n" + MAIN
FASTNN = "import numpy as np\nfrom fastnn import SimpleNeuralNetwork\n" + MAIN
COMMANDS = {
    "tutorial": [sys.executable, "-c", FASTNN],
    "plain": [sys.executable, "-c", PLAIN],
    "compile": [sys.executable, "-m", "fastnn", "compile"],
    "moons": [sys.executable, "-m", "fastnn", "train", "--dataset", "moons", "--n-samples", "10000", "--noise", "0.2",
              "--hidden", "16", "--batch-size", "64", "--no-progress"],
}


def _run(command, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    subprocess.run(command, env=env, check=True, capture_output=True)


def test_the_plain_script_imports_nothing_of_fastnn():
    done = subprocess.run([sys.executable, "-c", PLAIN + "import sys; print('numba' in sys.modules)"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "False"


@pytest.mark.parametrize(
    "what,cache",
    [("plain", "none"), ("tutorial", "warm"), ("tutorial", "cold"), ("compile", "cold"), ("moons", "warm"),
     ("moons", "cold")],
)
def test_startup(benchmark, tmp_path, what, cache):
    command = COMMANDS[what]
    benchmark.group = "startup"
    benchmark.extra_info.update(impl="reference" if what == "plain" else f"fastnn {what}", cache=cache)
    if cache == "cold":

        def empty_cache():
            return (command, tempfile.mkdtemp(dir=tmp_path)), {}

        benchmark.pedantic(_run, setup=empty_cache, rounds=1 if what == "compile" else 3, iterations=1)
    else:
        _run(command, str(tmp_path))  # fills the cache for the warm rounds
        benchmark.pedantic(_run, args=(command, str(tmp_path)), rounds=7, iterations=1)
