import os
import sys

sys.path.insert(0, os.path.dirname(__file__))


def pytest_configure(config):
    config.addinivalue_line("markers", "peers: PyTorch and JAX running the same training, skipped where not installed")


def pytest_benchmark_update_machine_info(config, machine_info):
    from report import machine  # called at the start too (--benchmark-compare): machine() loads NumPy itself

    machine_info.update(machine())
