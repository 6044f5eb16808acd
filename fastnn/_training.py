"""The epoch driver: every kind of training runs through `train` here, whatever its path.

It cuts the epochs into calls of about CHUNK_SECONDS of compiled work, so
that the tutorial's lines are printed as training goes and Ctrl-C gets
through; after each call it checks the losses and the weights, and if they
are not finite it replays the call's epochs from its start, in halves (the
kernels are deterministic), to find the epoch that diverged and keep the
weights it started from.
"""

import signal
import sys
import threading
import time

import numpy as np

from . import _config
from ._disk import FileChangedError
from ._paths import next_chunk, work_per_sample
from ._validation import plural

try:
    import _signal  # signal's C module: its functions without the enum conversions, much cheaper a call
except ImportError:  # another Python implementation
    _signal = signal


def train(net, runner, epochs, lr, report):
    """`epochs` epochs of `runner` on `net`; returns and keeps (net.loss_history) the losses of the epochs done.

    Before each call it publishes the parameters the call starts from as
    ``net._published`` (the copy it keeps to undo a diverged call, never
    written), so that a reader in another thread sees whole epochs while
    the live arrays change in place; cleared at the end.
    """
    losses = np.empty(epochs)
    net.loss_history = losses[:0]
    if epochs == 0:
        return losses
    try:
        _epochs(net, runner, epochs, lr, report, losses)
    finally:
        net._published = None  # readers take the live parameters again, under the lock
    return net.loss_history


def _epochs(net, runner, epochs, lr, report, losses):
    params = net._params()
    # The first call is sized from the work per epoch, later ones from measured time.
    done = 0
    chunk = max(1, _config.FIRST_CHUNK_WORK // (runner.n * work_per_sample(net._sizes())))
    with _DeferredInterrupt() as interrupt:
        while done < epochs and not interrupt.pending:
            saved = [p.copy() for p in params]
            net._published = tuple(saved)
            began = time.perf_counter()
            try:
                stop = runner.run(losses, done, min(epochs, done + chunk), interrupt)
            except FileChangedError as exc:
                _keep_whole_epochs(net, runner, params, saved, losses, done, getattr(exc, "epoch", done), report)
                raise
            elapsed = time.perf_counter() - began
            if stop == done:
                break  # interrupted within its first epoch: nothing changed
            diverged = not (np.isfinite(losses[done:stop]).all() and _finite(params))
            if diverged:
                _restore(params, saved)
                stop = _find_divergence(runner, params, losses, done, stop)
            report.epochs(done, stop, losses)
            runner.keep_activations()
            net.loss_history = losses[:stop]
            if diverged:
                what = "loss" if not np.isfinite(losses[stop]) else "weights after the update"
                raise FloatingPointError(
                    f"training diverged at epoch {stop}: the {what} would be NaN or infinite "
                    f"(learning_rate={lr!r} is probably too large). The network keeps the weights "
                    f"that epoch started from; loss_history holds the "
                    f"{plural(stop, 'finite loss', 'finite losses')} before it."
                )
            chunk = next_chunk(chunk, elapsed)
            done = stop


def _keep_whole_epochs(net, runner, params, saved, losses, done, stop, report):
    """After an error that left the weights of `stop` whole epochs (from `done`): keep them, or the call's start if one diverged."""
    if stop > done and np.isfinite(losses[done:stop]).all() and _finite(params):
        report.epochs(done, stop, losses)
        runner.keep_activations()
    else:
        _restore(params, saved)
        stop = done
    net.loss_history = losses[:stop]


def _finite(params):
    return all(np.isfinite(p).all() for p in params)


def _restore(params, saved):
    for p, q in zip(params, saved):
        p[...] = q


def _find_divergence(runner, params, losses, start, stop):
    """The first epoch in [start, stop) whose loss or update is not finite, from the weights at `start`.

    The epochs are replayed in halves (about 2 log2(stop - start) calls).
    Leaves the weights that epoch started from and the activations of its
    forward pass.
    """
    while stop - start > 1:
        middle = (start + stop) // 2
        saved = [p.copy() for p in params]
        runner.run(losses, start, middle, None)
        if np.isfinite(losses[start:middle]).all() and _finite(params):
            start = middle
        else:
            _restore(params, saved)
            stop = middle
    saved = [p.copy() for p in params]
    runner.run(losses, start, start + 1, None)
    _restore(params, saved)
    return start


class Report:
    """What train shows as it goes: the tutorial's lines (verbose=True), a progress bar, or nothing."""

    def __init__(self, verbose, epochs):
        self.lines = verbose is True
        self.progress = verbose == "progress" and epochs > 0
        self.total, self.bar = epochs, None

    def epochs(self, start, stop, losses):
        """Epochs [start, stop) are done."""
        if self.lines:
            # The tutorial's lines for these epochs, in one write.
            first = -(-start // 100) * 100
            lines = [f"Epoch {e}, Loss: {loss}" for e, loss in zip(range(first, stop, 100), losses[first:stop:100].tolist())]
            if lines:
                print("\n".join(lines))
        if stop:
            self.partial(stop, losses[stop - 1])

    def partial(self, done, loss):
        """`done` epochs (a fraction) are done; `loss` is the latest loss."""
        if not self.progress:
            return
        if self.bar is None:
            # The bar starts after the first call, which also compiled or loaded
            # the kernels: a rate measured over it would be far too slow.
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=self.total, initial=done, file=sys.stderr, dynamic_ncols=True,
                mininterval=0.1 if sys.stderr.isatty() else 10.0,
                bar_format="{n:.1f}/{total_fmt} epochs |{bar:24}| {desc} [{elapsed}<{remaining}]",
            )
        self.bar.set_description_str(f"loss {loss:.4g}", refresh=False)
        self.bar.update(done - self.bar.n)

    def close(self):
        """Training ended, whole or not: the bar's line is finished."""
        if self.bar is not None:
            self.bar.close()


class _DeferredInterrupt:
    """Holds Ctrl-C (SIGINT) while compiled work runs; re-delivers it between chunks.

    A compiled loop cannot be interrupted, and a KeyboardInterrupt raised at an
    arbitrary point of the Python loop around it could leave the network's
    attributes half-set. Inside this context the first SIGINT only sets
    ``pending``; on exit, after the state is consistent, the previous handler
    is restored and called, which raises KeyboardInterrupt as usual. Only the
    main thread can handle signals: elsewhere this does nothing.
    """

    def __init__(self):
        self.pending = False
        self._previous = None

    def _handler(self, signum, frame):
        self.pending = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            previous = _signal.getsignal(signal.SIGINT)
            if callable(previous):
                self._previous = previous
                _signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._previous is not None:
            _signal.signal(signal.SIGINT, self._previous)
            if self.pending and exc_type is None:
                self._previous(signal.SIGINT, None)
        return False
