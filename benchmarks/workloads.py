"""The benchmark workloads: data and network sizes, shared by the suite and the demo."""

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

    def data(self, dtype=np.float64):
        """A seeded binary problem: y says whether the first two features share a sign."""
        if self.name == "xor":
            # The tutorial's own integer arrays.
            return np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([[0], [1], [1], [0]])
        rng = np.random.default_rng(0)
        X = rng.standard_normal((self.n_samples, self.n_features)).astype(dtype)
        y = (X[:, :1] * X[:, 1:2] > 0).astype(dtype)
        return X, y


WORKLOADS = {
    w.name: w
    for w in [
        Workload("xor", 4, 2, 2, 10_000, 0.1),
        Workload("medium", 10_000, 20, 32, 100, 1e-4),
    ]
}
