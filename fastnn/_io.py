"""The network's file: an ``.npz`` of named arrays, written atomically, read back with every part checked."""

import contextlib
import errno
import math
import os
import secrets
import tempfile
import zipfile
import zlib

try:
    import fcntl
except ImportError:  # Windows: no flock, no cleanup of files left by killed saves
    fcntl = None

import numpy as np

from ._validation import param, resolve_seed

FORMAT, FORMAT_VERSION = "fastnn.SimpleNeuralNetwork", 1


def save(net, path, params):
    """Write `net` with `params` (W1, b1, W2, b2) to `path`: into a temporary file of the same directory, then renamed over `path`."""
    path = os.fspath(path)
    W1, b1, W2, b2 = params
    arrays = dict(
        format=np.array(FORMAT),
        format_version=np.array(FORMAT_VERSION),
        sizes=np.array([net.input_size, net.hidden_size, net.output_size]),
        dtype=np.array(net.dtype.name),
        gradient=np.array(net.gradient),
        weights_input_hidden=W1,
        bias_hidden=b1,
        weights_hidden_output=W2,
        bias_output=b2,
    )
    directory = os.path.dirname(os.path.abspath(path))
    mode = _file_mode(path)
    _remove_stale(directory, path)
    fd, tmp = _temporary(directory, path)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            if tmp is None or hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)  # mkstemp's and O_TMPFILE's file is private; a saved network need not be
            else:
                os.chmod(tmp, mode)
            os.fsync(f.fileno())
            if tmp is None:  # an unnamed file (O_TMPFILE): named now that it is whole, still locked
                tmp = _link(f.fileno(), directory, path)
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise OSError(exc.errno, exc.strerror, path) from None  # the target, not the temporary name
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise


# The temporary files of a save: hidden, beside the target, named after it
# (".fastnn-<hash of the target's name>-<random>.npz.tmp"), each locked
# (flock) by the process writing it for as long as it is open, so that the
# next save of that target can tell a file left by a killed save (unlocked:
# removed) from one being written now (locked: left alone). On Linux the
# data goes to an unnamed file (O_TMPFILE), which a killed save leaves
# nowhere; it gets a temporary name only for the instant before os.replace.


def _prefix(path):
    return f".fastnn-{zlib.crc32(os.path.basename(path).encode('utf-8', 'surrogateescape')):08x}-"


def _directory_error(exc, directory):
    """An OSError about the temporary file, as one about the directory (which is what the caller chose)."""
    return OSError(exc.errno, f"cannot write a file in this directory: {exc.strerror}", directory)


def _temporary(directory, path):
    """(fd, name) of a new locked file in `directory`; name None for an unnamed one (O_TMPFILE)."""
    if _TMPFILE:
        try:
            fd = os.open(directory, os.O_TMPFILE | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EACCES, errno.EPERM, errno.EROFS):
                raise _directory_error(exc, directory) from None
            # EOPNOTSUPP, EISDIR, EINVAL: this filesystem or kernel has no O_TMPFILE; a named file instead
        else:
            _lock(fd)
            return fd, None
    try:
        fd, tmp = tempfile.mkstemp(prefix=_prefix(path), suffix=".npz.tmp", dir=directory)
    except OSError as exc:
        raise _directory_error(exc, directory) from None
    _lock(fd)
    return fd, tmp


def _link(fd, directory, path):
    """A temporary name in `directory` for the unnamed file open as fd (linkat through /proc, as open(2) shows)."""
    # A directory fd makes os.link call linkat(..., AT_SYMLINK_FOLLOW): plain link(2) would link
    # the /proc symlink itself (EXDEV).
    dir_fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        for _ in range(100):
            name = f"{_prefix(path)}{secrets.token_hex(4)}.npz.tmp"
            try:
                os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dir_fd, follow_symlinks=True)
                return os.path.join(directory, name)
            except FileExistsError:
                continue
    finally:
        os.close(dir_fd)
    raise FileExistsError(errno.EEXIST, "no free temporary name", directory)


def _lock(fd):
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: nobody else holds it


def _remove_stale(directory, path):
    """Remove the temporary files of `path` that killed saves left: those no process holds locked."""
    if fcntl is None:  # no flock: a file being written could not be told from a left one
        return
    prefix = _prefix(path)
    try:
        names = [e.name for e in os.scandir(directory) if e.name.startswith(prefix) and e.name.endswith(".npz.tmp")]
    except OSError:
        return  # the save itself will report the directory
    for name in names:
        stale = os.path.join(directory, name)
        try:
            fd = os.open(stale, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # locked: a save in progress
        else:
            with contextlib.suppress(OSError):
                os.unlink(stale)
        finally:
            os.close(fd)


# O_TMPFILE and a /proc to link the file through: Linux.
_TMPFILE = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")


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
