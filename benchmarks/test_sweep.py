"""The shape sweep and its report, on its quick grid without the peers (a smoke test of the script)."""

import json

import numpy as np
import sweep


def test_quick_sweep_writes_the_table_and_the_heatmap(tmp_path, capsys):
    out = tmp_path / "sweep"
    report = sweep.main(["--quick", "--no-peers", "--seconds", "0.01", "--repeats", "1", "--out", str(out)])
    grid = sweep.points(**sweep.QUICK)
    assert [r["point"] for r in report["results"]] == [list(p) for p in grid]
    for r in report["results"]:
        assert set(r["seconds"]) == {"fastnn", "reference"}
        assert all(np.isfinite(s) and s > 0 for s in r["seconds"].values())
    table = (tmp_path / "sweep.md").read_text().splitlines()
    assert len(table) == 2 + len(grid)
    assert json.loads((tmp_path / "sweep.json").read_text())["cpu"]["llvm"]
    assert (tmp_path / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "LLVM" in capsys.readouterr().out


def test_the_grid_spans_the_asked_ranges():
    grid = sweep.points()
    rows, features, hidden, outputs = (sorted({p[i] for p in grid}) for i in range(4))
    assert (rows[0], rows[-1]) == (4, 2_000_000)
    assert (features[0], features[-1]) == (2, 2000)
    assert (hidden[0], hidden[-1]) == (2, 512)
    assert (outputs[0], outputs[-1]) == (1, 16)
    assert {p[4] for p in grid} == {"float32", "float64"}
    assert all(sweep.work(*p[:4]) <= sweep.MAX_WORK for p in grid)


def test_the_same_problem_for_every_implementation():
    X, Y = sweep.data(50, 3, 4, "float32")
    assert X.dtype == Y.dtype == np.float32 and Y.shape == (50, 4)
    assert set(np.unique(Y)) <= {0.0, 1.0}
    X2, Y2 = sweep.data(50, 3, 4, "float32")
    assert np.array_equal(X, X2) and np.array_equal(Y, Y2)
