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


def trained(settings, n, f, h, o, dtype, gradient, epochs=7):
    rng = np.random.default_rng(n + f + h + o)
    X = rng.standard_normal((n, f))
    y = (X[:, :o] * X[:, -o:] > 0).astype(float)
    with _config.override(**settings):
        net = fastnn.SimpleNeuralNetwork(f, h, o, seed=2, dtype=dtype, gradient=gradient)
        losses = net.train(X, y, epochs, min(0.5, 2 / f), verbose=False)  # small steps on many inputs, which saturate
        return losses, [p.copy() for p in net._params()], net.predict_proba(X)


@pytest.mark.parametrize("n, f, h, o, dtype, gradient", [
    (64, 1000, 64, 1, np.float64, "tutorial"),   # the sweep's shape: four slices of each
    (50, 37, 13, 3, np.float32, "tutorial"),     # slices of odd sizes, several outputs, padding in the block
    (9, 5, 3, 2, np.float64, "exact"),           # fewer units and features than slices
    (256, 600, 16, 1, np.float32, "exact"),      # a full block
    (601, 520, 16, 2, np.float64, "tutorial"),   # three blocks, the last padded
])
def test_the_cut_gives_one_chunks_bits(monkeypatch, n, f, h, o, dtype, gradient):
    calls = []
    original = packed.train_units
    monkeypatch.setattr(packed, "train_units", lambda *args: calls.append(args[-1][2]) or original(*args))
    split = trained(SPLIT, n, f, h, o, dtype, gradient)
    assert True in calls  # the leader's call (a helper's beside it passes False)
    calls.clear()
    whole = trained(ONE_CHUNK, n, f, h, o, dtype, gradient)
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
