"""Time to first result: importing fastnn compiles nothing, and the tutorial's script loads only what it runs."""

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from numba.core.registry import CPUDispatcher
    import numpy as np
    before = {name.split(".")[0] for name in sys.modules}
    from fastnn import SimpleNeuralNetwork
    from fastnn._kernels import _math, packed, rows, stream
    added = sorted({name.split(".")[0] for name in sys.modules} - before - set(sys.stdlib_module_names))

    def compiled():
        return sorted(
            f"{module.__name__.split('.')[-1]}.{name}{[str(t) for t in signature]}"
            for module in (_math, packed, rows, stream)
            for name, kernel in vars(module).items() if isinstance(kernel, CPUDispatcher)
            for signature in kernel.signatures
        )

    after_import = compiled()
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([[0], [1], [1], [0]])
    nn = SimpleNeuralNetwork(input_size=2, hidden_size=2, output_size=1)
    nn.train(X, y, epochs=10000, learning_rate=0.1)
    output = nn.forward(X)
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
    # exp and log are compiled with train when it compiles (it calls them), and are part of it when it is loaded.
    assert kernels - {"_math._exp", "_math._log"} == {"packed.train"}, report["after_script"]
    assert all("float32" not in entry for entry in report["after_script"]), report["after_script"]
    assert len([entry for entry in report["after_script"] if entry.startswith("packed.train[")]) == 1
    assert report["added"] == ["fastnn"]  # beyond what numba imports
