"""The README's examples, run as a user would: every Python block and every command, in order.

Each Python block runs as a script of its own, and each command in a shell
whose PATH starts with this environment's bin directory (as after `source
.venv/bin/activate`), all in one scratch directory. The Quick start's two
commands are CI's own (`.ci/run` runs them literally), and install commands
are checked against pyproject's extras rather than run.
"""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```$", README, flags=re.S | re.M)
COMMANDS = [line for lang, text in BLOCKS if lang == "" for line in text.splitlines() if line.strip()]
SCRIPTS = [text for lang, text in BLOCKS if lang == "python"]
CI = (ROOT / ".ci" / "run").read_text()


def test_the_quick_start_commands_are_the_ones_ci_runs():
    setup, tests = COMMANDS[:2]
    assert setup.startswith("python3 -m venv .venv") and setup in CI
    assert tests == ".venv/bin/python -m pytest" and tests in CI


def test_install_commands_name_extras_that_exist():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    named = re.findall(r'"\.\[(\w+)\]"', README)
    assert named and all(name in extras for name in named), named
    table = re.findall(r"^\| `(\w+)` \|", README, flags=re.M)
    assert sorted(table) == sorted(extras), table


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("readme")


def _run(command, cwd, **kwargs):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, **kwargs)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.parametrize("index", range(len(SCRIPTS)))
def test_python_example_runs(index, scratch):
    script = SCRIPTS[index]
    out = _run([sys.executable, "-c", script], scratch)
    # A value the README shows in a comment after a print is the one printed.
    shown = re.findall(r"^print\(.*\)\s+# ([\d.]+)$", script, flags=re.M)
    if shown:
        assert out.split()[-1] == shown[-1], out


@pytest.mark.parametrize("command", COMMANDS[2:])
def test_command_runs(command, scratch):
    if command.startswith("pip install"):
        pytest.skip("installation: checked against pyproject's extras above")
    if command == "source .venv/bin/activate":
        if Path(sys.prefix) != ROOT / ".venv":
            pytest.skip("the tests run in another environment than the README's .venv")
        assert (ROOT / ".venv" / "bin" / "activate").exists()
        return
    _run(["bash", "-c", command], scratch)


def test_the_license_is_the_one_pyproject_declares():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    assert project["dynamic"] == ["version"]  # read from fastnn.__version__, the one place it is written
