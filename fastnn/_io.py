"""The network's file: an ``.npz`` of named arrays, written atomically, read back with every part checked."""

import math
import os
import tempfile
import zipfile

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
        with _open_archive(path, file) as archive:
            members = {info.filename[:-4]: info for info in archive.infolist() if info.filename.endswith(".npy")}

            def read(name, shape=None):
                return _read_member(path, archive, members[name], name, shape)

            def bad(what):
                return ValueError(f"{path} is not a valid fastnn network file: {what}")

            def text(name):
                value = read(name)
                if value.shape != () or value.dtype.kind != "U":
                    raise bad(f"{name} must be a string, got {value!r}")
                return str(value)

            if "format" not in members or text("format") != FORMAT:
                raise ValueError(f"{path} is not a fastnn network file (no '{FORMAT}' format mark)")
            version = read("format_version") if "format_version" in members else None
            if version is None or version.shape != () or version.dtype.kind not in "iu":
                raise bad(f"format_version must be an integer, got {version!r}")
            if int(version) != FORMAT_VERSION:
                raise ValueError(f"{path} has format version {int(version)}; this fastnn reads version {FORMAT_VERSION}")
            names = ["sizes", "dtype", "gradient", "weights_input_hidden", "bias_hidden", "weights_hidden_output",
                     "bias_output"]
            missing = [name for name in names if name not in members]
            if missing:
                raise ValueError(f"{path} is missing {', '.join(missing)}")
            sizes = read("sizes")
            if sizes.shape != (3,) or sizes.dtype.kind not in "iu" or sizes.min() < 1:
                raise bad(f"sizes must be 3 positive integers, got {sizes!r}")
            f, h, o = sizes.tolist()
            dtype, gradient = text("dtype"), text("gradient")
            # Every stored shape agrees with the sizes before its data is read.
            shapes = dict(zip(names[3:], [(f, h), (1, h), (h, o), (1, o)]))
            fields = {name: read(name, shape) for name, shape in shapes.items()}
    try:
        # Built from a private generator: the file's weights replace the draws, and
        # NumPy's global state stays as it was.
        net = cls(f, h, o, seed=0, dtype=dtype, gradient=gradient)
        for name, value in fields.items():
            if value.dtype != net.dtype:
                raise ValueError(f"{name} is stored as {value.dtype}, the file says {net.dtype}")
            # Into the new network's own arrays (nobody else holds them yet).
            getattr(net, "_" + name)[...] = param(name, value, value.shape, net.dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path} is not a valid fastnn network file: {exc}") from None
    net._rng = rng
    return net


NPY_MAGIC = b"\x93NUMPY"
SMALL_MEMBER = 1 << 16  # bytes, at most, of a member other than the weights (a string or 3 integers)


def _open_archive(path, file):
    """The file as a zip archive (an .npz), else a ValueError saying in plain words what it is not."""
    try:
        return zipfile.ZipFile(file)
    except Exception:  # BadZipFile, and OSError or ValueError from a damaged directory: not a readable .npz
        file.seek(0)
        if file.read(len(NPY_MAGIC)) == NPY_MAGIC:
            what = "it holds a single NumPy array (.npy), not the .npz archive of arrays that save writes"
        else:
            what = "it is not an .npz archive (a zip file) as save writes, or it is truncated or damaged"
        raise ValueError(f"{path} is not a readable fastnn network file: {what}") from None


def _read_member(path, archive, info, name, shape=None):
    """Member `name` of the archive as an array, read with every part of it checked.

    A member that is not a NumPy array of numbers or strings (junk, empty,
    truncated, a bad header, pickled objects), or whose shape is not `shape`
    (if given; found from its header, before its data is read), is a
    ValueError naming the file and the member. Nothing is ever unpickled.
    """

    def bad(what):
        return ValueError(f"{path} is not a valid fastnn network file: its member {name!r} {what}")

    try:
        with archive.open(info) as f:
            magic = f.read(len(NPY_MAGIC))
            if not magic:
                raise bad("is empty")
            if magic != NPY_MAGIC:
                raise bad("is not a NumPy array (no .npy header)")
            version = (f.read(1) or b"\0")[0], (f.read(1) or b"\0")[0]
            header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in header:
                raise bad(f"has a .npy header of version {version[0]}.{version[1]}, which save never writes")
            try:
                stored, fortran, dtype = header[version](f)
            except Exception:  # the header is not a readable dict of shape, order and dtype
                raise bad("has a damaged .npy header") from None
            if dtype.hasobject:
                raise bad("holds Python objects (pickled data), which a fastnn file never does; it is not read")
            if any(d < 0 for d in stored):
                raise bad(f"has a damaged .npy header (shape {stored})")
            if shape is not None and stored != shape:
                raise ValueError(f"{path} is not a valid fastnn network file: {name} must have shape {shape}, got {stored}")
            nbytes = math.prod(stored) * dtype.itemsize
            held = info.file_size - f.tell()
            if nbytes != held or (shape is None and nbytes > SMALL_MEMBER):
                what = "is truncated" if nbytes > held else "has bytes after its data"
                raise bad(f"{what}: its header says {nbytes} bytes of data, it holds {held}")
            data = f.read(nbytes)
            if len(data) != nbytes or f.read(1):
                raise bad("is truncated")
    except ValueError as exc:
        if str(exc).startswith(f"{path} is not a valid"):
            raise
        raise bad("is damaged (it cannot be read as an array)") from None
    except Exception:  # zipfile's CRC and header checks, zlib, an unsupported compression
        raise bad("is damaged (it cannot be read as an array)") from None
    array = np.frombuffer(data, dtype)
    return array.reshape(stored[::-1]).T if fortran else array.reshape(stored)


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
