"""The tutorial's network in PyTorch and in JAX, the same math, for the benchmark's peers group.

PyTorch runs eagerly with autograd off; JAX compiles the whole training loop
(``jax.jit`` over a ``lax.scan`` of epochs). Both compute every epoch's loss,
as fastnn's ``train`` does, and start from the reference's initial weights.
"""

import numpy as np


def initial_weights(n_features, hidden, seed=0):
    """The tutorial's draws after np.random.seed(seed)."""
    np.random.seed(seed)
    return [np.random.randn(n_features, hidden), np.zeros((1, hidden)), np.random.randn(hidden, 1), np.zeros((1, 1))]


class Torch:
    name = "pytorch"

    def __init__(self, dtype):
        import torch

        self.torch = torch
        self.dtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]

    def prepare(self, X, y, weights):
        t = self.torch
        return [t.as_tensor(np.asarray(a, float), dtype=self.dtype) for a in (X, y, *weights)]

    def train(self, X, y, W1, b1, W2, b2, epochs, lr):
        t = self.torch
        losses = t.empty(epochs, dtype=t.float64)
        with t.no_grad():
            for e in range(epochs):
                hout = t.sigmoid(X @ W1 + b1)
                out = t.sigmoid(hout @ W2 + b2)
                losses[e] = -t.mean(y * t.log(out) + (1 - y) * t.log(1 - out))
                od = (out - y) * out * (1 - out)
                hd = (od @ W2.T) * hout * (1 - hout)
                W2 -= (hout.T @ od) * lr
                b2 -= od.sum(0, keepdim=True) * lr
                W1 -= (X.T @ hd) * lr
                b1 -= hd.sum(0, keepdim=True) * lr
        return W1, losses


class Jax:
    name = "jax"

    def __init__(self, dtype):
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from jax import lax

        self.jnp, self.dtype = jnp, dtype

        def train(X, y, W1, b1, W2, b2, lr, epochs):
            def epoch(params, _):
                W1, b1, W2, b2 = params
                hout = jax.nn.sigmoid(X @ W1 + b1)
                out = jax.nn.sigmoid(hout @ W2 + b2)
                loss = -jnp.mean(y * jnp.log(out) + (1 - y) * jnp.log(1 - out))
                od = (out - y) * out * (1 - out)
                hd = (od @ W2.T) * hout * (1 - hout)
                new = (W1 - (X.T @ hd) * lr, b1 - hd.sum(0, keepdims=True) * lr, W2 - (hout.T @ od) * lr, b2 - od.sum(0, keepdims=True) * lr)
                return new, loss

            params, losses = lax.scan(epoch, (W1, b1, W2, b2), None, length=epochs)
            return params[0], losses

        self._train = jax.jit(train, static_argnums=(7,))

    def prepare(self, X, y, weights):
        return [self.jnp.asarray(np.asarray(a, self.dtype)) for a in (X, y, *weights)]

    def train(self, X, y, W1, b1, W2, b2, epochs, lr):
        W1, losses = self._train(X, y, W1, b1, W2, b2, lr, epochs)
        return W1.block_until_ready(), losses


PEERS = {"pytorch": Torch, "jax": Jax}
