"""The benchmark workloads: data and network sizes, shared by the suite and the report."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Workload:
    name: str
    n_samples: int
    n_features: int
    hidden: int
    epochs: int
    learning_rate: float
    dtype: type = np.float64  # fastnn's; the reference always runs in float64, as the tutorial

    def data(self, dtype=None):
        """A seeded binary problem: y says whether the first two features share a sign."""
        if self.name == "xor":
            # The tutorial's own integer arrays.
            return np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([[0], [1], [1], [0]])
        dtype = dtype or self.dtype
        rng = np.random.default_rng(0)
        X = rng.standard_normal((self.n_samples, self.n_features), dtype=np.dtype(dtype).type)
        y = (X[:, :1] * X[:, 1:2] > 0).astype(dtype)
        return X, y

    @property
    def flops(self):
        """Floating-point operations of one epoch's products: 4 n f h (X W1 and X^T hd) + 6 n h o."""
        return 4 * self.n_samples * self.n_features * self.hidden + 6 * self.n_samples * self.hidden


WORKLOADS = {
    w.name: w
    for w in [
        Workload("xor", 4, 2, 2, 10_000, 0.1),
        Workload("medium", 10_000, 20, 32, 100, 1e-4),
        Workload("large", 100_000, 100, 256, 3, 1e-5),
        Workload("large32", 100_000, 100, 256, 3, 1e-5, np.float32),
        Workload("scale", 2_000_000, 20, 64, 3, 1e-6, np.float32),
    ]
}
