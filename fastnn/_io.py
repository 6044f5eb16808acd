"""The network's file: an ``.npz`` of named arrays, written atomically, read back with every part checked."""

import os
import tempfile

import numpy as np

from ._validation import param, resolve_seed

FORMAT, FORMAT_VERSION = "fastnn.SimpleNeuralNetwork", 1


def save(net, path):
    """Write `net` to `path`: into a temporary file of the same directory, then renamed over `path`."""
    path = os.fspath(path)
    arrays = dict(
        format=np.array(FORMAT),
        format_version=np.array(FORMAT_VERSION),
        sizes=np.array([net.input_size, net.hidden_size, net.output_size]),
        dtype=np.array(net.dtype.name),
        gradient=np.array(net.gradient),
        weights_input_hidden=net.weights_input_hidden,
        bias_hidden=net.bias_hidden,
        weights_hidden_output=net.weights_hidden_output,
        bias_output=net.bias_output,
    )
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".fastnn-", suffix=".npz.tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode(path))  # mkstemp's file is private; a saved network need not be
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(cls, path, seed=None):
    """The network of class `cls` in a file written by `save`; a ValueError naming the file if it is not one."""
    path = os.fspath(path)
    rng = resolve_seed(seed)  # a bad seed is the caller's error, not the file's
    with open(path, "rb") as file:  # a missing file, no permission, a directory: OSError, as the system says
        try:
            with np.load(file, allow_pickle=False) as data:
                fields = {key: data[key] for key in data.files}
        except Exception as exc:  # zipfile, zlib, format and seek errors: not a readable .npz
            raise ValueError(f"{path} is not a readable fastnn network file ({type(exc).__name__}: {exc})") from None

    def bad(what):
        return ValueError(f"{path} is not a valid fastnn network file: {what}")

    def text(name):
        value = fields.get(name)
        if value is None or value.shape != () or value.dtype.kind != "U":
            raise bad(f"{name} must be a string, got {value!r}")
        return str(value)

    if "format" not in fields or text("format") != FORMAT:
        raise ValueError(f"{path} is not a fastnn network file (no '{FORMAT}' format mark)")
    version = fields.get("format_version")
    if version is None or version.shape != () or version.dtype.kind not in "iu":
        raise bad(f"format_version must be an integer, got {version!r}")
    if int(version) != FORMAT_VERSION:
        raise ValueError(f"{path} has format version {int(version)}; this fastnn reads version {FORMAT_VERSION}")
    names = ["sizes", "dtype", "gradient", "weights_input_hidden", "bias_hidden", "weights_hidden_output", "bias_output"]
    missing = [name for name in names if name not in fields]
    if missing:
        raise ValueError(f"{path} is missing {', '.join(missing)}")
    sizes = fields["sizes"]
    if sizes.shape != (3,) or sizes.dtype.kind not in "iu" or sizes.min() < 1:
        raise bad(f"sizes must be 3 positive integers, got {sizes!r}")
    f, h, o = sizes.tolist()
    # Every stored shape agrees with the sizes before anything is allocated from them.
    for name, shape in zip(names[3:], [(f, h), (1, h), (h, o), (1, o)]):
        if fields[name].shape != shape:
            raise bad(f"{name} must have shape {shape}, got {fields[name].shape}")
    try:
        # Built from a private generator: the file's weights replace the draws, and
        # NumPy's global state stays as it was.
        net = cls(f, h, o, seed=0, dtype=text("dtype"), gradient=text("gradient"))
        for name in names[3:]:
            if fields[name].dtype != net.dtype:
                raise ValueError(f"{name} is stored as {fields[name].dtype}, the file says {net.dtype}")
            # Into the new network's own arrays (nobody else holds them yet).
            getattr(net, "_" + name)[...] = param(name, fields[name], fields[name].shape, net.dtype)
    except (TypeError, ValueError) as exc:
        raise bad(str(exc)) from None
    net._rng = rng
    return net


def _file_mode(path):
    """The permissions for a file written to `path`: those of the file it replaces, else 0o666 less the umask."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        pass
    try:  # the umask without changing it (Linux), as os.umask would for an instant, for every thread
        with open("/proc/self/status") as f:
            umask = next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        umask = 0o022
    return 0o666 & ~umask
