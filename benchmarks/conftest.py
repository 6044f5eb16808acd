import os
import sys

sys.path.insert(0, os.path.dirname(__file__))


def pytest_configure(config):
    config.addinivalue_line("markers", "peers: PyTorch and JAX running the same training, skipped where not installed")
