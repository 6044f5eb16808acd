"""One block of many features: its epochs cut across the units of the first layer (packed.train_units).

The cut must not change a bit: the same sums in the same order as one
thread's single chunk of blocks (packed.train), whichever thread runs each
slice. Both are compared here on the same network and data.
"""

import numpy as np
import pytest

import fastnn
from fastnn import _config, _paths
from fastnn._kernels import packed

from conftest import NO_ROWS

ONE_CHUNK = dict(NO_ROWS, FEW_ROWS=0, STREAM_MIN_WORK=10**18, TINY_ROWS=0, UNIT_SPLIT_MIN_FEATURES=10**18,
                 PACKED_SPLIT_WORK=10**18)  # all the blocks in one chunk
SPLIT = dict(ONE_CHUNK, UNIT_SPLIT_MIN_FEATURES=0, UNIT_SPLIT_WORK=0, PACKED_TEAM_WORK=0)


def trained(settings, n, f, h, o, dtype, gradient, epochs):
    rng = np.random.default_rng(n + f + h + o)
    X = rng.standard_normal((n, f))
    y = (X[:, :o] * X[:, -o:] > 0).astype(float)
    with _config.override(**settings):
        net = fastnn.SimpleNeuralNetwork(f, h, o, seed=2, dtype=dtype, gradient=gradient)
        losses = net.train(X, y, epochs, min(0.5, 2 / f, 10 / (n * o)), verbose=False)  # small steps on large sums
        return losses, [p.copy() for p in net._params()], net.predict_proba(X)


@pytest.mark.parametrize("n, f, h, o, dtype, gradient, epochs", [
    (64, 1000, 64, 1, np.float64, "tutorial", 7),   # the sweep's shape: four slices of each
    (50, 37, 13, 3, np.float32, "tutorial", 7),     # slices of odd sizes, several outputs, padding in the block
    (9, 5, 3, 2, np.float64, "exact", 7),           # fewer units and features than slices
    (256, 600, 16, 1, np.float32, "exact", 7),      # a full block
    (601, 520, 16, 2, np.float64, "tutorial", 7),   # three blocks, the last padded
    (1000, 20, 6, 16, np.float32, "tutorial", 30),  # the outputs of 4 epochs kept for their losses: 8 groups of them
])
def test_the_cut_gives_one_chunks_bits(monkeypatch, n, f, h, o, dtype, gradient, epochs):
    calls = []
    original = packed.train_units
    monkeypatch.setattr(packed, "train_units", lambda *args: calls.append(args[-1][2]) or original(*args))
    split = trained(SPLIT, n, f, h, o, dtype, gradient, epochs)
    assert True in calls  # the leader's call (a helper's beside it passes False)
    calls.clear()
    whole = trained(ONE_CHUNK, n, f, h, o, dtype, gradient, epochs)
    assert calls == []
    np.testing.assert_array_equal(split[0], whole[0])
    for a, b in zip(split[1], whole[1]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(split[2], whole[2])
    assert np.all(np.isfinite(split[0])) and split[0][-1] < split[0][0]  # it learns


def test_unit_slices_cover_the_units_and_features_in_even_slices():
    units, features = _paths.unit_slices(64, (1000, 64, 1))
    np.testing.assert_array_equal(units, [0, 16, 32, 48, 64])
    np.testing.assert_array_equal(features, [0, 250, 500, 750, 1000])
    units, features = _paths.unit_slices(200, (513, 7, 2))
    assert units[0] == 0 and units[-1] == 7 and features[0] == 0 and features[-1] == 513
    assert all(b % 2 == 0 for b in list(units[:-1]) + list(features[:-1]))


def test_the_plan_takes_the_cut_for_a_few_blocks_of_many_features_only():
    for dtype in (np.float32, np.float64):
        assert _paths.plan(64, (1000, 64, 1), dtype) == "packed"  # on the row path before, at 0.7 of JAX's speed
        assert _paths.plan(256, (2000, 128, 1), dtype) == "packed"  # one block: at any work
        assert _paths.plan(300, (1000, 32, 1), dtype) == "packed"  # two blocks, under UNIT_SPLIT_MAX_WORK
        assert _paths.plan(512, (1000, 64, 1), dtype) == "rows"  # two blocks, over it
    assert _paths.plan(1000, (2000, 16, 1), np.float64) == "packed"  # a few narrow blocks in float64
    assert _paths.plan(1000, (2000, 16, 1), np.float32) == "rows"  # ... but not in float32
    assert _paths.unit_slices(64, (1000, 64, 1)) is not None
    assert _paths.unit_slices(1025, (1000, 16, 1)) is None  # five blocks: cut into chunks of blocks instead
    assert _paths.unit_slices(64, (100, 256, 1)) is None  # few features: the output layer's task would weigh
    assert _paths.unit_slices(4, (1000, 4, 1)) is None  # too little work an epoch for three waits


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_helper_alone_runs_every_task_as_the_leader_does(dtype):
    """The helper's side of the protocol, with no leader to take tasks before it: the same bits."""
    rng = np.random.default_rng(5)
    n, f, h, o = 40, 600, 10, 2
    X, y = rng.standard_normal((n, f)), (rng.random((n, o)) > 0.5).astype(float)
    results = []
    for leader in (True, False):
        with _config.override(**SPLIT):
            net = fastnn.SimpleNeuralNetwork(f, h, o, seed=4, dtype=dtype)
            runner = _paths.PackedEpochs(net, X.astype(dtype), y.astype(dtype), True, 0.01)
        state = np.zeros(packed.STATE, np.int64)
        state[packed._STARTED] = 1  # as if the leader had started
        losses = np.full(300, np.nan)  # 300 epochs: the outputs of 256 a group, two groups
        packed.train_units(runner.X, runner.Y, runner.M, net._params(), net._sums, runner.acts, runner.deltas,
                           runner.kept, losses, 0.01, runner.rule, (runner.units, state, leader))
        per_epoch = len(runner.units[0]) + len(runner.units[1]) - 1
        assert state[packed._DONE] == state[packed._TAKEN] == 300 * per_epoch
        results.append([losses] + [p.copy() for p in net._params()])
    assert np.all(np.isfinite(results[0][0]))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_calls_too_short_for_the_team_sum_in_the_teams_order():
    """The driver cuts the epochs into calls by their time; the calls under PACKED_TEAM_WORK run on one thread,
    and must sum as train_units does (one chunk), not in packed_chunks' chunks: else the bits would follow the timing."""
    rng = np.random.default_rng(6)
    n, f, h = 1000, 600, 1  # four blocks, float64, narrow: cut across the units
    X, y = rng.standard_normal((n, f)), (rng.random((n, 1)) > 0.5).astype(float)
    assert _paths.plan(n, (f, h, 1), np.float64) == "packed" and _paths.unit_slices(n, (f, h, 1)) is not None
    np.testing.assert_array_equal(_paths.packed_chunks(n, (f, h, 1)), [0, 2, 4])  # packed.train's chunks: two blocks each
    results = []
    for team_work in (0, 10**18):  # every call on the team; every call on one thread
        with _config.override(PACKED_TEAM_WORK=team_work):
            net = fastnn.SimpleNeuralNetwork(f, h, 1, seed=7)
            losses = net.train(X, y, 4, 0.001, verbose=False)
        results.append([losses] + [p.copy() for p in net._params()])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
