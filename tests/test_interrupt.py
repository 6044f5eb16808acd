"""Ctrl-C during a long train(): back within about a second, at the end of a whole epoch."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from naive import XOR_X, XOR_Y

import fastnn
from fastnn import _config, _threads
from fastnn._kernels import rows, stream, tiny

CHILD = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    import fastnn
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([[0], [1], [1], [0]])
    net = fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0)
    net.train(X, y, 10, 0.1, verbose=False)  # compile before the clock starts
    net = fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0)
    print("ready", flush=True)
    try:
        net.train(X, y, 2 * 10**7, 0.1, verbose=False)  # about 4 s of work
    except KeyboardInterrupt:
        caught = time.time()
        state = {name: getattr(net, name).tolist() for name in
                 ["weights_input_hidden", "weights_hidden_output", "bias_hidden", "bias_output",
                  "hidden_input", "hidden_output", "output_input", "output"]}
        print(json.dumps({"caught": caught, "epochs": len(net.loss_history),
                          "last_loss": float(net.loss_history[-1]), "state": state}), flush=True)
        sys.exit(0)
    sys.exit("train() finished: the interrupt was lost")
    """
)


def test_ctrl_c_stops_within_a_second_at_a_whole_epoch():
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        sent = time.time()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == 0, err
    report = json.loads(out)
    assert report["caught"] - sent < 1.0, f"took {report['caught'] - sent:.2f} s"
    epochs = report["epochs"]
    assert epochs > 1000  # it was well into training
    # Consistent: exactly the state that `epochs` uninterrupted epochs give.
    replay = fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0)
    losses = replay.train(XOR_X, XOR_Y, epochs, 0.1, verbose=False)
    assert losses[-1] == report["last_loss"]
    for name, value in report["state"].items():
        np.testing.assert_array_equal(getattr(replay, name), np.array(value), err_msg=name)


def test_sigint_handler_is_restored_and_other_threads_are_untouched(monkeypatch):
    before = signal.getsignal(signal.SIGINT)
    net = fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0)
    net.train(XOR_X, XOR_Y, 100, 0.1, verbose=False)
    assert signal.getsignal(signal.SIGINT) is before
    if os.name == "posix":
        # A SIGINT that arrives between chunks in the main thread is delivered after the chunk.
        net2 = fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0)
        monkeypatch.setattr(_config, "FIRST_CHUNK_WORK", 100)
        monkeypatch.setattr(_config, "CHUNK_SECONDS", 1e-6)
        calls = sigint_on_call(monkeypatch, tiny, "train", 2)  # XOR-size data: tiny.train
        try:
            with pytest.raises(KeyboardInterrupt):
                net2.train(XOR_X, XOR_Y, 100_000, 0.1, verbose=False)
        finally:
            monkeypatch.undo()
        assert len(calls) == 2  # no chunk ran after the interrupt
        assert signal.getsignal(signal.SIGINT) is before
        replay = fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0)
        replay.train(XOR_X, XOR_Y, len(net2.loss_history), 0.1, verbose=False)
        np.testing.assert_array_equal(net2.weights_input_hidden, replay.weights_input_hidden)


def test_ctrl_c_during_minibatch_training_stops_after_the_running_call(monkeypatch):
    """With mini-batches an epoch of four rows is one compiled call: a SIGINT
    during the second call stops training after it, with two whole epochs done."""
    calls = sigint_on_call(monkeypatch, stream, "train_batches", 2)
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0)
    with pytest.raises(KeyboardInterrupt):
        net.train(XOR_X, XOR_Y, 1000, 0.1, verbose=False, batch_size=2)
    monkeypatch.undo()
    assert len(calls) == 2 and net.loss_history.shape == (2,)
    replay = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=0)
    np.testing.assert_array_equal(replay.train(XOR_X, XOR_Y, 2, 0.1, verbose=False, batch_size=2), net.loss_history)
    np.testing.assert_array_equal(net.weights_input_hidden, replay.weights_input_hidden)


def sigint_on_call(monkeypatch, module, name, call_number):
    """Make module.name raise SIGINT in this process on its call_number-th call (then run as usual)."""
    real = getattr(module, name)
    calls = []

    def spy(*args):
        calls.append(1)
        if len(calls) == call_number:
            signal.raise_signal(signal.SIGINT)
        return real(*args)

    monkeypatch.setattr(module, name, spy)
    return calls


@pytest.mark.parametrize(
    "settings, module, kernel, call",
    [  # 4,096 rows of 3 inputs, hidden 8
        (dict(BLAS_MIN_WORK=0, BLAS_BLOCK_ELEMENTS=1024 * 8), rows, "train_blas", 6),  # 4 blocks an epoch: epoch 1's 2nd
        (dict(BLAS_MIN_WORK=0, BLAS_BLOCK_ELEMENTS=1024 * 8, ROWS_COMPILED=False), rows, "hidden_rows", 6),
        (dict(STREAM_MIN_WORK=0, STREAM_CHUNK_WORK=1), stream, "train_batches", 20),  # 16 chunks of 256 rows: epoch 1's 4th
    ],
    ids=["rows, between blocks", "rows in Python, between blocks", "stream, between chunks"],
)
def test_ctrl_c_on_many_rows_stops_within_an_epoch_and_drops_it(monkeypatch, settings, module, kernel, call):
    """The row path checks for Ctrl-C between blocks of rows, the stream path
    before each chunk: an epoch of millions of rows is cut short, and dropped
    whole (the weights change only at an epoch's end)."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((4096, 3)), (rng.random((4096, 1)) < 0.5).astype(float)
    for name, value in dict(settings, FIRST_CHUNK_WORK=10**12).items():  # all epochs in one call
        monkeypatch.setattr(_config, name, value)
    # On the calling thread alone, so that the count is exact: a signal raised
    # on a helper thread reaches the handler when the calling thread next runs
    # Python, after its own chunk.
    monkeypatch.setattr(_threads, "helpers", lambda: None)
    calls = sigint_on_call(monkeypatch, module, kernel, call)
    net = fastnn.SimpleNeuralNetwork(3, 8, 1, seed=0)
    with pytest.raises(KeyboardInterrupt):
        net.train(X, y, 1000, 1e-3, verbose=False)
    assert len(calls) == call  # nothing started after the interrupt
    assert net.loss_history.shape == (1,)
    replay = fastnn.SimpleNeuralNetwork(3, 8, 1, seed=0)
    np.testing.assert_array_equal(replay.train(X, y, 1, 1e-3, verbose=False), net.loss_history)
    for name in ["weights_input_hidden", "bias_hidden", "weights_hidden_output", "bias_output", "output"]:
        np.testing.assert_array_equal(getattr(net, name), getattr(replay, name), err_msg=name)


def test_a_sigint_handler_that_does_not_raise_gets_only_the_epochs_done(monkeypatch):
    """An application's own handler (a "graceful stop") that returns: train stops
    after the running chunk and returns the losses of the epochs done, no more."""
    received = []
    monkeypatch.setattr(_config, "FIRST_CHUNK_WORK", 100)
    monkeypatch.setattr(_config, "CHUNK_SECONDS", 1e-6)
    sigint_on_call(monkeypatch, tiny, "train", 2)  # XOR-size data: tiny.train
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    net = fastnn.SimpleNeuralNetwork(2, 2, 1, seed=0)
    try:
        losses = net.train(XOR_X, XOR_Y, 100_000, 0.1, verbose=False)
    finally:
        monkeypatch.undo()
        signal.signal(signal.SIGINT, previous)
    assert received == [signal.SIGINT]  # the application's handler got the signal, once, after the chunk
    assert 0 < len(losses) < 100_000
    np.testing.assert_array_equal(losses, net.loss_history)
    assert np.isfinite(losses).all()


@pytest.mark.parametrize("on_disk", [False, True], ids=["memory", "file"])
def test_ctrl_c_between_minibatch_epochs_draws_no_order_for_an_epoch_not_run(monkeypatch, tmp_path, on_disk):
    """Interrupted at an epoch's end, the network's generator is where the epochs done left it:
    training on afterwards shuffles as one uninterrupted call would."""
    X, y = XOR_X.astype(float), XOR_Y.astype(float)
    if on_disk:
        np.save(tmp_path / "X.npy", X)
        np.save(tmp_path / "y.npy", y)
        X, y = np.load(tmp_path / "X.npy", mmap_mode="r"), np.load(tmp_path / "y.npy", mmap_mode="r")
    calls = sigint_on_call(monkeypatch, stream, "train_batches", 2)  # an epoch is one call: during epoch 1
    generator = np.random.default_rng(0)
    net = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=generator)
    with pytest.raises(KeyboardInterrupt):
        net.train(X, y, 1000, 0.1, verbose=False, batch_size=2)
    monkeypatch.undo()
    assert len(calls) == 2 and net.loss_history.shape == (2,)
    replay_generator = np.random.default_rng(0)
    replay = fastnn.SimpleNeuralNetwork(2, 3, 1, seed=replay_generator)
    replay.train(X, y, 2, 0.1, verbose=False, batch_size=2)
    assert generator.bit_generator.state == replay_generator.bit_generator.state
    np.testing.assert_array_equal(
        net.train(X, y, 3, 0.1, verbose=False, batch_size=2), replay.train(X, y, 3, 0.1, verbose=False, batch_size=2)
    )
