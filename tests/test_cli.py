"""The command line: fastnn train, bench's report, --help."""


import pytest

import fastnn
from fastnn import datasets
from fastnn.__main__ import main


def test_train_reports_loss_accuracy_and_time_and_saves(tmp_path, capsys):
    path = tmp_path / "moons.npz"
    code = main(["train", "--n-samples", "2000", "--epochs", "20", "--save", str(path)])
    assert code == 0
    out, err = capsys.readouterr()
    assert "moons: 2,000 x 2 float64" in out and "1,600 rows to train on, 400 held out" in out
    assert "final loss" in out and "training took" in out
    held_out = float(out.split("held-out accuracy ")[1].split()[0])
    assert held_out > 0.9
    bar = [line for line in err.splitlines() if " epochs |" in line]
    assert bar[-1].startswith("20.0/20 epochs |")  # the progress bar, ended
    net = fastnn.SimpleNeuralNetwork.load(path)
    assert net.gradient == "exact" and net.hidden_size == 16
    # The saved network is the trained one: its held-out accuracy is the one printed.
    X, y = datasets.make_moons(2000, noise=0.2, seed=0)
    assert net.score(X[1600:], y[1600:]) == held_out


def test_train_full_batch_float32_without_progress(capsys):
    code = main(["train", "--dataset", "xor", "--n-features", "3", "--n-samples", "500", "--epochs", "5",
                 "--batch-size", "full", "--dtype", "float32", "--gradient", "tutorial", "--no-progress"])
    assert code == 0
    out, err = capsys.readouterr()
    assert "xor: 500 x 3 float32" in out and "full batch" in out and "gradient" not in out.split("\n")[1]
    from fastnn._kernels import COMPILING

    assert set(err.splitlines()) <= {COMPILING}  # no bar; only a first run's announcement


def test_train_bad_values_are_clear_errors(capsys, tmp_path):
    # Found while the command line is parsed: before any data is generated or trained on.
    for option, value, message in [
        ("--n-samples", "0", "expected a positive integer, got '0'"),
        ("--n-features", "-2", "expected a positive integer, got '-2'"),
        ("--hidden", "0", "expected a positive integer, got '0'"),
        ("--epochs", "-1", "expected a non-negative integer, got '-1'"),
        ("--epochs", "2.5", "expected a non-negative integer, got '2.5'"),
        ("--learning-rate", "0", "expected a finite positive number, got '0'"),
        ("--learning-rate", "nan", "expected a finite positive number, got 'nan'"),
        ("--noise", "-1", "expected a finite number >= 0, got '-1'"),
        ("--batch-size", "0", "expected a positive integer or 'full', got '0'"),
        ("--test-fraction", "1.2", "expected a number in [0, 1), got '1.2'"),
        ("--test-fraction", "-0.5", "expected a number in [0, 1), got '-0.5'"),
        ("--save", str(tmp_path / "no" / "net.npz"), f"the directory {tmp_path / 'no'} of"),
        ("--save", str(tmp_path), f"expected a file path, got '{tmp_path}'"),
        ("--save", str(tmp_path) + "/", "expected a file path, got"),
        ("--save", str(tmp_path / "x.npz") + "/.", "expected a file path, got"),
        ("--save", str(tmp_path / "no") + "/..", "expected a file path, got"),
        ("--save", "", "expected a file path, got ''"),
        ("--seed", "-1", "expected a non-negative integer, got '-1'"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            main(["train", option, value])
        assert exit_info.value.code == 2
        out, err = capsys.readouterr()
        assert f"argument {option}: {message}" in err, (option, value)
        assert out == "", (option, value)  # nothing generated, nothing trained
    # A noise too large for the dtype is refused by the generator, still before any data is made.
    assert main(["train", "--noise", "1e38", "--dtype", "float32"]) == 2
    out, err = capsys.readouterr()
    assert "noise must be a finite number >= 0, small enough for float32" in err and out == ""
    # A learning rate that overflows: an error message, not a traceback.
    assert main(["train", "--n-samples", "1000", "--batch-size", "full", "--learning-rate", "1e308", "--no-progress"]) == 2
    assert "fastnn train: training diverged at epoch 0" in capsys.readouterr().err


def test_compile_compiles_every_kernel_then_loads_them(tmp_path):
    """With an empty cache every kernel is compiled, for float64 and float32, and
    the cache is named; the next process loads them all."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-m", "fastnn", "compile"], env=env, capture_output=True, text=True,
                           timeout=900) for _ in range(2)]
    for done in runs:
        assert done.returncode == 0, done.stderr
        assert f"Numba's cache for fastnn: {tmp_path}" in done.stdout
    kernels = ["tiny.train", "packed.train", "packed.backward", "stream.train_batches", "stream.predict", "rows.hidden_rows",
               "rows.fold_chunk_sums", "_math.apply_gradients", "rows.bias_sigmoid_rows", "rows.bias_sigmoid_in_place",
               "rows.train", "rows.output_rows", "rows.hidden_delta_rows", "rows.train_blas"]
    for name in kernels:
        for dtype in ("float64", "float32"):
            compiled = [line for line in runs[0].stdout.splitlines() if line.startswith(f"  {dtype} ")]
            loaded = [line for line in runs[1].stdout.splitlines() if line.startswith(f"  {dtype} ")]
            variants = 2 if name == "rows.train_blas" else 1  # one for each kind of output layer
            assert sum(f"{name} compiled" in line for line in compiled) == variants, (name, dtype, runs[0].stdout)
            assert sum(f"{name} loaded" in line for line in loaded) == variants, (name, dtype, runs[1].stdout)
    assert "compiled" not in runs[1].stdout


@pytest.mark.parametrize("command", ["train", "bench"])
def test_help_explains_every_option(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    options = [word for word in out.split() if word.startswith("--") and word != "--help"]
    if command == "bench":
        assert "-k EXPRESSION" in out and "--json" in options and "--chart" in options and out.count("(default:") == 3
    if command == "train":
        for option in ["--dataset", "--n-samples", "--hidden", "--epochs", "--learning-rate", "--batch-size",
                       "--dtype", "--gradient", "--seed", "--save"]:
            assert option in options
        assert out.count("(default:") >= 12


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"fastnn {fastnn.__version__}"


def test_ctrl_c_in_train_saves_and_exits_130_without_a_traceback(tmp_path):
    """Ctrl-C stops training at a consistent point, says where, saves the network
    given to --save and exits with 130, the shell's code for SIGINT."""
    import os
    import signal
    import subprocess
    import sys

    path = tmp_path / "net.npz"
    command = [sys.executable, "-m", "fastnn", "train", "--n-samples", "20000", "--epochs", "1000000",
               "--batch-size", "full", "--no-progress", "--save", str(path)]
    import threading
    import time

    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, PYTHONUNBUFFERED="1"))
    watchdog = threading.Timer(300, child.kill)  # a child that never stops fails the test, not the suite
    watchdog.start()
    try:
        for line in child.stdout:
            if "epochs, learning rate" in line:  # training is starting
                break
        time.sleep(1.0)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        watchdog.cancel()
        child.kill()
    assert child.returncode == 130, err
    assert "Traceback" not in err
    message = [line for line in err.splitlines() if line.startswith("interrupted after epoch ")]
    words = message[0].split() if message else []
    assert words[4:6] == ["of", "1,000,000"] and int(words[3].replace(",", "")) >= 1, err
    assert f"saved to {path}" in err
    net = fastnn.SimpleNeuralNetwork.load(path)
    assert net.hidden_size == 16


def test_bench_keeps_no_json_unless_asked(capsys, tmp_path):
    """Without --json the results go to a temporary file, which is not announced."""
    main(["bench", "-k", "matmul and float32"])
    out = capsys.readouterr().out
    assert "| matmul |" in out  # the table
    assert "Wrote benchmark data" not in out and "benchmark data written to" not in out
    path = tmp_path / "b.json"
    main(["bench", "-k", "matmul and float32", "--json", str(path)])
    out = capsys.readouterr().out
    assert f"benchmark data written to {path}" in out and path.exists()


@pytest.mark.parametrize("dataset", ["moons", "circles"])
def test_n_features_is_refused_for_datasets_of_two_features(dataset, capsys):
    """Given explicitly, --n-features with moons or circles is an error (it was silently ignored)."""
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--dataset", dataset, "--n-features", "3", "--epochs", "1"])
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert f"argument --n-features: --dataset {dataset} has 2 features" in err and out == ""


def test_one_epoch_and_one_row_are_singular(capsys):
    assert main(["train", "--n-samples", "2", "--test-fraction", "0.5", "--epochs", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "1 row to train on" in out and ": 1 epoch, learning rate" in out, out
    assert "1 rows" not in out and "1 epochs" not in out


def test_ctrl_c_while_scoring_keeps_the_trained_network(tmp_path, capsys, monkeypatch):
    """The network is saved as soon as training ends: a Ctrl-C while the accuracies
    are computed exits with 130 and loses nothing (it printed 'interrupted before
    training' and saved nothing)."""
    def interrupted(self, X, y):
        raise KeyboardInterrupt

    path = tmp_path / "net.npz"
    monkeypatch.setattr(fastnn.SimpleNeuralNetwork, "score", interrupted)
    assert main(["train", "--n-samples", "200", "--epochs", "2", "--no-progress", "--save", str(path)]) == 130
    out, err = capsys.readouterr()
    assert "interrupted while scoring, after training" in err and f"saved to {path}" in out
    assert fastnn.SimpleNeuralNetwork.load(path).hidden_size == 16
