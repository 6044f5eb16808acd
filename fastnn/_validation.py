"""Every argument check of fastnn's public API, each one built from a few small checkers.

A check either returns the value in the one form the engine uses (a Python
int or float, a C-ordered array of the network's dtype) or raises a
TypeError (wrong kind of value) or ValueError (right kind, wrong value)
whose message names the argument, says what was expected and what came.
Nothing here changes any state, so a method that checks all its arguments
first leaves the network as it was when one is bad.
"""

import math
import numbers

import numpy as np

from . import _disk

# The largest integers the kernels and NumPy take. Sizes, batch sizes and the
# kernels' indices are int64; no array may hold more than INTP_MAX bytes
# (NumPy's "array is too big"), so the float64 losses of train hold at most
# INTP_MAX // 8 epochs.
INT64_MAX = int(np.iinfo(np.int64).max)
INTP_MAX = int(np.iinfo(np.intp).max)
EPOCHS_MAX = INTP_MAX // 8
_INT64_LIMIT = f"at most {INT64_MAX} (2**63 - 1, the kernels' int64)"

# A set: membership by hash first, as np.dtype(np.float64) == None is True.
DTYPES = {np.dtype(np.float32), np.dtype(np.float64)}
GRADIENTS = ("tutorial", "exact")


def plural(count, word, many=None):
    """'1 column', '2 columns', '1,600 rows': the count and the word (or `many`, else word + 's') in the right number."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def _show(value):
    """repr(value) for the message; an integer of more than 40 digits as its magnitude (str() of one of
    more than 4300 digits would raise)."""
    if isinstance(value, numbers.Integral) and not _is_bool(value) and abs(int(value)) >= 10**40:
        return f"an integer of about {'-' if value < 0 else ''}10**{int(math.log10(abs(int(value))))}"
    return repr(value)


def check_number(name, value, what, *, integer=False, low=None, high=None, open_low=False, open_high=False,
                 allow_none=False, beyond=None):
    """value as an int (integer=True) or a finite float, within [low, high] (an end excluded if open).

    `what` completes "{name} must be ...", as "a positive integer"; `beyond`,
    if given, is added to it for a value above `high`, to say the limit
    ("at most 2**63 - 1").
    """
    if value is None and allow_none:
        return None
    kind = numbers.Integral if integer else numbers.Real
    if _is_bool(value) or not isinstance(value, kind):
        raise TypeError(f"{name} must be {what}, got {_show(value)} of type {type(value).__name__}")
    try:
        number = int(value) if integer else float(value)
    except OverflowError:  # an int beyond float's range: not finite
        number = math.inf
    above = high is not None and (number >= high if open_high else number > high)
    if not (
        (integer or math.isfinite(number))
        and (low is None or (number > low if open_low else number >= low))
        and not above
    ):
        limit = f" {beyond}" if above and beyond else ""
        raise ValueError(f"{name} must be {what}{limit}, got {_show(value)}")
    return number


def check_size(name, value):
    return check_number(name, value, "a positive integer", integer=True, low=1, high=INT64_MAX, beyond=_INT64_LIMIT)


def check_array_bytes(names, sizes, shapes, itemsize):
    """Refuse sizes whose arrays of `shapes` (items of `itemsize` bytes) would exceed NumPy's largest array.

    `names` and `sizes` are the arguments the shapes come from, for the message.
    Checked before anything is allocated or drawn: NumPy would say
    "Maximum allowed dimension exceeded" or "array is too big", naming nothing.
    """
    nbytes = sum(math.prod(shape) for shape in shapes) * itemsize
    if nbytes > INTP_MAX:
        given = ", ".join(f"{name}={size}" for name, size in zip(names, sizes))
        raise ValueError(
            f"{' and '.join(names)} {'is' if len(names) == 1 else 'are'} too large: the arrays would take {nbytes:.3g} bytes, more than the "
            f"largest array NumPy can allocate ({INTP_MAX} bytes); got {given}"
        )


def check_network_arrays(sizes, dtype):
    """The checked sizes (input, hidden, output) together: its weights of `dtype` and their float64 sums fit in arrays."""
    f, h, o = sizes
    names = ("input_size", "hidden_size", "output_size")
    check_array_bytes(names[:2], (f, h), [(f, h)], dtype.itemsize)
    check_array_bytes(names[1:], (h, o), [(h, o)], dtype.itemsize)
    check_array_bytes(names, sizes, [(f, h), (1, h), (h, o), (1, o)], dtype.itemsize + 8)


def check_epochs(epochs):
    beyond = f"at most {EPOCHS_MAX} (the longest array of float64 losses NumPy can allocate)"
    return check_number("epochs", epochs, "a non-negative integer", integer=True, low=0, high=EPOCHS_MAX, beyond=beyond)


def check_batch_size(batch_size):
    return check_number("batch_size", batch_size, "None or a positive integer", integer=True, low=1, high=INT64_MAX,
                        allow_none=True, beyond=_INT64_LIMIT)


def check_learning_rate(learning_rate):
    return check_number("learning_rate", learning_rate, "a finite positive number", low=0, open_low=True)


def check_threshold(threshold):
    return check_number("threshold", threshold, "a number in [0, 1]", low=0, high=1)


def check_choice(name, value, choices):
    if not (isinstance(value, str) and value in choices):
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_flag(name, value):
    if not _is_bool(value):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_verbose(verbose):
    if _is_bool(verbose):
        return bool(verbose)
    if isinstance(verbose, str) and verbose == "progress":
        return verbose
    raise ValueError(f"verbose must be True, False or 'progress', got {verbose!r}")


def check_dtype(dtype):
    try:
        dt = None if dtype is None else np.dtype(dtype)  # np.dtype(None) would be float64
    except (TypeError, ValueError):
        dt = None
    if dt not in DTYPES:
        raise TypeError(f"dtype must be numpy.float32 or numpy.float64, got {dtype!r}")
    return dt


def resolve_seed(seed):
    """None (NumPy's global state), or the numpy.random.Generator that `seed` names."""
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, numbers.Integral) and not _is_bool(seed):
        if seed < 0:
            raise ValueError(f"seed must be None, a non-negative int or a numpy.random.Generator, got {seed!r}")
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be None, an int or a numpy.random.Generator, got {seed!r}")


# Arrays.


def is_dask_array(value):
    """Whether value is a dask.array.Array, without importing dask (none can exist if dask.array was never imported)."""
    import sys

    da = sys.modules.get("dask.array")
    return da is not None and isinstance(value, da.Array)


def real_array(name, value, expected):
    """value as an ndarray of bool, int or float; `expected` says what was asked for, if it is not an array."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} must be {expected}, got {type(value).__name__} ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers (bool, int or float), got dtype {arr.dtype}")
    return arr


def _reshape_hint(name, arr, n_cols):
    """For a 1-D array, the reshape that makes it the 2-D one asked for, if there is one."""
    if arr.ndim != 1:
        return ""
    if n_cols == 1:  # one value per sample: a column
        return f"; for {plural(arr.shape[0], 'sample')} of 1 column, pass {name}.reshape(-1, 1)"
    if arr.shape[0] == n_cols:  # the values of one sample: a row
        return f"; for one sample of {n_cols} columns, pass {name}.reshape(1, -1)"
    return ""


def matrix(name, value, n_cols, cols_what, n_rows=None):
    """value as a 2-D real ndarray of n_cols columns (and n_rows rows, if given), as it came."""
    arr = real_array(name, value, "a 2-dimensional numeric array")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional, got an array of shape {arr.shape}{_reshape_hint(name, arr, n_cols)}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row, got an array of shape {arr.shape}")
    if n_rows is not None and arr.shape[0] != n_rows:
        raise ValueError(f"{name} must have {plural(n_rows, 'row')}, one per row of X, got {arr.shape[0]}")
    if arr.shape[1] != n_cols:
        raise ValueError(f"{name} must have {plural(n_cols, 'column')} ({cols_what}), got an array of shape {arr.shape}")
    return arr


def _in_slices(arr):
    """The 2-D arr in slices of whole rows, about 2**20 values each: a check over large data needs little memory."""
    step = max(1, (1 << 20) // max(1, arr.shape[1]))
    return (arr[i : i + step] for i in range(0, arr.shape[0], step))


def _all_binary(arr):
    """Whether every value of the 2-D arr is 0 or 1."""
    return all(bool(np.all((part == 0) | (part == 1))) for part in _in_slices(arr))


def _check_finite(name, came, converted, dtype):
    # Integers and bools are finite in float32 too; floats may not be.
    if came.dtype.kind != "f":
        return
    if not all(np.isfinite(part).all() for part in _in_slices(converted)):
        raise ValueError(f"{name} must be finite in {dtype}, got NaN or infinity")


def rows(name, value, n_cols, cols_what, dtype, n_rows=None):
    """A checked 2-D array as a read-only view of C-ordered (n_rows, n_cols) rows of `dtype`, copied only if needed.

    Read-only whatever came, so that the kernels see one type: Numba compiles
    another variant of a kernel for a read-only array (a memory-mapped file)
    than for a writable one.
    """
    arr = matrix(name, value, n_cols, cols_what, n_rows)
    with np.errstate(over="ignore"):  # too large for float32: inf, reported below
        out = np.ascontiguousarray(arr, dtype=dtype).view()
    _check_finite(name, arr, out, dtype)
    out.flags.writeable = False
    return out


def data(name, value, n_cols, cols_what, dtype, n_rows=None):
    """As rows, but a memory-mapped array (np.memmap, np.load(..., mmap_mode="r")) is kept in its file.

    It comes back as a _disk.FileRows, checked block by block and read so by
    the paths, never converted whole; a FileRows passes as it is (checked).
    """
    if isinstance(value, _disk.FileRows):
        return value
    if isinstance(value, np.ndarray) and _disk.mapped(value) is not None:
        arr = matrix(name, value, n_cols, cols_what, n_rows)
        out = _disk.FileRows(name, arr, dtype)
        if not _disk.check_finite(out):
            raise ValueError(f"{name} must be finite in {dtype}, got NaN or infinity")
        return out
    return rows(name, value, n_cols, cols_what, dtype, n_rows)


def targets(y, n_rows, output_size, dtype):
    """Checked targets as rows of `dtype` (a FileRows if y is memory-mapped), and whether every target is 0 or 1."""
    Y = data("y", y, output_size, "output_size", dtype, n_rows=n_rows)
    if isinstance(Y, _disk.FileRows):
        low, high, all_binary = _disk.target_range(Y)
        kind = Y.came.kind
    else:
        low, high = Y.min(), Y.max()
        all_binary, kind = None, np.asarray(y).dtype.kind
    if low < 0 or high > 1:
        raise ValueError(f"y must hold targets in [0, 1], got values from {low} to {high}")
    if all_binary is None:
        binary = kind in "biu" or _all_binary(Y)
    else:
        binary = kind in "biu" or all_binary
    return Y, binary


def labels(y, n_rows, output_size):
    """Checked 0/1 labels, as they came (for score)."""
    arr = matrix("y", y, output_size, "output_size", n_rows=n_rows)
    if not _all_binary(arr):
        raise ValueError("y must hold labels 0 or 1 to be scored, got other values")
    return arr


def param(name, value, shape, dtype):
    """value as a new C-ordered array of `dtype`, after checking that it is a finite real array of `shape`."""
    arr = real_array(name, value, f"a numeric array of shape {shape}")
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    with np.errstate(over="ignore"):
        arr = np.array(arr, dtype=dtype, order="C")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite in {dtype}, got NaN or infinity")
    return arr
