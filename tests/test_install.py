"""fastnn imported from a read-only directory: no error, no traceback, NUMBA_CACHE_DIR honoured."""

import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fastnn

SCRIPT = textwrap.dedent(
    """
    import numpy as np
    import fastnn
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([[0], [1], [1], [0]])
    net = fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0)
    losses = net.train(X, y, 200, 0.1, verbose=False)
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    print("trained", fastnn.__file__)
    """
)


def _run_readonly(readonly_dirs, env, script=SCRIPT):
    """Run `script` in a child that cannot write to `readonly_dirs`.

    Root ignores file modes, so as root the directories are bind-mounted
    read-only in a private mount namespace (util-linux unshare); otherwise
    their write bits are removed.
    """
    if os.geteuid() == 0:
        if shutil.which("unshare") is None:
            pytest.skip("running as root without unshare: cannot make a directory read-only")
        mounts = " && ".join(f"mount --bind -o ro '{d}' '{d}'" for d in readonly_dirs)
        command = ["unshare", "-m", "sh", "-c", f'{mounts} && exec "$0" -c "$1"', sys.executable, script]
    else:
        for d in readonly_dirs:
            _make_readonly(d)
        command = [sys.executable, "-c", script]
    return subprocess.run(command, env=env, capture_output=True, text=True, cwd=readonly_dirs[0])


def _make_readonly(path):
    for root, dirs, files in os.walk(path):
        for name in files:
            os.chmod(os.path.join(root, name), stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.chmod(root, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)


@pytest.fixture
def readonly_install(tmp_path):
    """A copy of the package, and a home directory, both to be made read-only."""
    site = tmp_path / "site"
    shutil.copytree(Path(fastnn.__file__).parent, site / "fastnn", ignore=shutil.ignore_patterns("__pycache__"))
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "XDG_", "PYTHON"))}
    env.update(PYTHONPATH=str(site), HOME=str(home), PYTHONDONTWRITEBYTECODE="1")
    return site, home, env


def test_read_only_package_and_home_compiles_in_memory(readonly_install):
    site, home, env = readonly_install
    run = _run_readonly([site, home], env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("trained " + str(site)), run.stdout
    assert run.stderr == ""  # no traceback, no warning
    assert not list(site.rglob("*.nbi")) and not list(home.rglob("*.nbi"))


def test_numba_cache_dir_is_honoured(readonly_install, tmp_path):
    site, home, env = readonly_install
    cache = tmp_path / "cache"
    cache.mkdir()
    env = dict(env, NUMBA_CACHE_DIR=str(cache))
    for _ in range(2):  # the second run loads what the first one wrote
        run = _run_readonly([site, home], env)
        assert run.returncode == 0, run.stderr
        assert run.stderr == ""
    assert list(cache.rglob("*.nbi")) and list(cache.rglob("*.nbc"))
    assert not list(site.rglob("*.nbi")) and not list(home.rglob("*.nbi"))
