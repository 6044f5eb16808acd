"""A one-line progress bar for long training: epochs done, loss, time spent and left.

Written here rather than taken from a package: it is one line of text on
stderr, redrawn at most ten times a second on a terminal and once every ten
seconds into a log file.
"""

import math
import sys
import time


def _duration(seconds):
    seconds = int(round(seconds))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


class Progress:
    """Draws ``epoch 3.5/10 [#########.........] loss 0.2431  00:07 < 00:13`` on `stream`.

    Parameters
    ----------
    epochs : int
        The number of epochs of the whole run.
    stream : file-like, default sys.stderr
    """

    BAR = 24

    def __init__(self, epochs, stream=None):
        self.epochs = epochs
        self.stream = sys.stderr if stream is None else stream
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = 0.1 if self.tty else 10.0
        self.start = time.perf_counter()
        self.last_draw = None
        self.line = ""

    def text(self, done, loss, elapsed):
        """The bar for `done` epochs (a float) after `elapsed` seconds, with the latest loss."""
        fraction = min(1.0, done / self.epochs) if self.epochs else 1.0
        filled = int(fraction * self.BAR)
        done = math.floor(done * 10) / 10  # 1.96 epochs show as 1.9, not as 2.0
        # Time left, once there is enough behind to extrapolate from.
        # (The first chunk also loads the compiled kernels: too early a guess is far off.)
        left = elapsed * (1 - fraction) / fraction if fraction >= 0.02 or (fraction > 0 and elapsed >= 10) else None
        loss_text = "" if loss is None else f" loss {loss:.4g}"
        time_text = _duration(elapsed) + (" < " + _duration(left) if left is not None else "")
        width = len(str(self.epochs))
        return f"epoch {done:{width + 2}.1f}/{self.epochs} [{'#' * filled}{'.' * (self.BAR - filled)}]{loss_text}  {time_text}"

    def update(self, done, loss=None, final=False):
        now = time.perf_counter()
        if not final and self.last_draw is not None and now - self.last_draw < self.interval:
            return
        self.last_draw = now
        line = self.text(done, loss, now - self.start)
        if self.tty:
            self.stream.write("\r" + line + " " * max(0, len(self.line) - len(line)) + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.line = line
