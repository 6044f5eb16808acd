"""Numba kernels of fastnn: every compiled function lives here.

Kernels assume clean input: C-contiguous arrays of one float dtype, checked
by the public wrapper in ``network.py``. Data and activations are stored
transposed and cut into blocks of samples: ``(units, n_blocks, width)``, one
row per unit (feature, hidden unit or output). Every loop over the samples of
a block runs from 0 to ``width`` over unit-stride memory, so LLVM vectorizes
it. Columns past ``n_samples`` are padding: zero input, masked out of the loss
and the gradients by ``M`` (shape ``(1, n_blocks, width)``: 1.0 for a real
sample, 0.0 for padding).

The unit of work is one block: its forward pass, its loss and its gradient
contributions are computed while the block is in cache. A full-batch epoch
runs the blocks in order, adds their partial gradients in that order, then
updates the weights once. The block width depends only on the number of
samples (see ``network._blocks``), so the result does not depend on how
the work is scheduled.

All kernels share ``_NJIT``:

- ``cache=True``: compiled code is reused across processes;
- ``nogil=True``: threads training different networks run in parallel;
- ``error_model="numpy"``: a division by zero gives inf like NumPy, with no
  Python exception check inside the loops;
- ``fastmath`` with an explicit subset of flags. ``nnan`` and ``ninf`` are left
  out on purpose: with them LLVM may assume that no value is NaN or infinite,
  and overflow in ``exp`` or a diverging loss could no longer be seen.
  ``reassoc`` lets the sums over samples vectorize, which changes their
  rounding in the last bits compared with NumPy; the tests bound the effect.

The block helpers are inlined into their callers by Numba
(``inline="always"``), so the epoch loop of a tiny network is one compiled
function. Each inlined copy is typed and lowered again, which is most of the
first run's compile time, so every helper has one call site per kernel where
it can. The scalar functions (``_sigmoid``, ``_exp``, ``_log`` ...) are plain
calls that LLVM inlines, at no cost to Numba. ``_exp`` and ``_log`` are
compiled with ``_EXACT`` flags, without ``reassoc``, which would let LLVM fold
away their range reduction; inlined, they keep their own flags.
"""

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
_NJIT = dict(nogil=True, cache=True, error_model="numpy", fastmath=_FASTMATH)
_INLINE = dict(_NJIT, inline="always")
_EXACT = dict(nogil=True, cache=True, error_model="numpy", fastmath={"contract"})


def _jit(**options):
    """numba.njit(**options), without the on-disk cache where none can be written.

    Numba looks for a cache directory (NUMBA_CACHE_DIR, then __pycache__ beside
    this file, then the user's cache directory) when a function is decorated,
    and raises RuntimeError if none is writable: a read-only installation
    without a writable home. fastnn then compiles in memory, every process.
    """

    def decorate(func):
        try:
            return njit(**options)(func)
        except RuntimeError as exc:
            if "no locator available" not in str(exc):
                raise
            return njit(**dict(options, cache=False))(func)

    return decorate


@intrinsic
def _as_int64(typingctx, x):
    """The bits of a float64 as an int64 (a bitcast, no conversion)."""

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _as_float64(typingctx, x):
    """The float64 whose bits are the int64 x (a bitcast, no conversion)."""

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _f32_bits(typingctx, x):
    """The bits of a float32 as an int64 (a bitcast, then sign extension)."""

    def codegen(context, builder, sig, args):
        return builder.sext(builder.bitcast(args[0], ir.IntType(32)), ir.IntType(64))

    return types.int64(types.float32), codegen


@intrinsic
def _f32_from_bits(typingctx, x):
    """The float32 whose bits are the low 32 bits of the int64 x."""

    def codegen(context, builder, sig, args):
        return builder.bitcast(builder.trunc(args[0], ir.IntType(32)), ir.FloatType())

    return types.float32(types.int64), codegen


# exp and log are written out here, not called from the C library: a call in
# a loop stops LLVM from vectorizing it and spills every live register, and
# Numba has no vector math library with llvmlite from PyPI. Both are tested
# against NumPy to within 1 ulp (exp) and 2 ulp (log) in tests/test_kernels.py.
_LOG2E = 1.4426950408889634
_SHIFT = 6755399441055744.0  # 2**52 + 2**51: adding it rounds to an integer held in the low bits
_LN2_HI = 6.93147180369123816490e-01  # ln 2 in two parts: k * _LN2_HI is exact for |k| < 2**11
_LN2_LO = 1.90821492927058770002e-10
_E2, _E3, _E4, _E5, _E6, _E7, _E8, _E9, _E10, _E11, _E12, _E13 = [1.0 / math.factorial(i) for i in range(2, 14)]
_SQRT2 = 1.4142135623730951
_L0, _L1, _L2, _L3, _L4, _L5, _L6, _L7, _L8, _L9, _L10, _L11 = [2.0 / (2 * i + 1) for i in range(12)]


@_jit(**_EXACT)
def _exp(x):
    """exp(x) = 2**k exp(r), k = round(x / ln 2), |r| <= ln 2 / 2, exp(r) by its Taylor series to r**13.

    Overflows to inf above 709.78 and underflows through the subnormals to 0,
    as the C library does; NaN gives NaN.
    """
    if x > 710.0:  # comparisons, not min/max, so that NaN passes through
        x = 710.0
    if x < -746.0:
        x = -746.0
    kd = x * _LOG2E + _SHIFT
    ki = _as_int64(kd)
    kd -= _SHIFT
    r = (x - kd * _LN2_HI) - kd * _LN2_LO
    r2 = r * r
    r4 = r2 * r2
    q0 = (_E2 + r * _E3) + r2 * (_E4 + r * _E5)
    q1 = (_E6 + r * _E7) + r2 * (_E8 + r * _E9)
    q2 = (_E10 + r * _E11) + r2 * (_E12 + r * _E13)
    p = r + r2 * (q0 + r4 * (q1 + r4 * q2))  # exp(r) - 1
    k = (ki << 12) >> 12  # the low 52 bits of kd, sign-extended: k
    # 2**k as two factors, so that k from -1076 (subnormal results) to 1024 (inf) works
    half = k >> 1
    s1 = _as_float64((half + 1023) << 52)
    s2 = _as_float64((k - half + 1023) << 52)
    return (s1 + s1 * p) * s2


# float32: the same scheme in float32 arithmetic, which vectorizes twice as wide.
_F32 = np.float32
_LOG2E_F, _SHIFT_F = _F32(_LOG2E), _F32(12582912.0)  # 2**23 + 2**22
_LN2_HI_F, _LN2_LO_F = _F32(0.693145751953125), _F32(1.428606765330187e-06)  # k * _LN2_HI_F exact for |k| < 2**9
_F2, _F3, _F4, _F5, _F6, _F7 = [_F32(1.0 / math.factorial(i)) for i in range(2, 8)]
_MAX_F, _MIN_F, _ONE_F = _F32(89.0), _F32(-104.0), _F32(1.0)


@_jit(**_EXACT)
def _exp32(x):
    """exp(x) for float32 x in float32: 2**k exp(r), exp(r) - 1 by its Taylor series to r**7.

    Overflows to inf above 88.72 and underflows through the subnormals to 0;
    NaN gives NaN.
    """
    if x > _MAX_F:
        x = _MAX_F
    if x < _MIN_F:
        x = _MIN_F
    kd = x * _LOG2E_F + _SHIFT_F
    k = _f32_bits(kd) - 0x4B400000  # the low bits of kd: k, as kd's exponent is that of the shift
    kd -= _SHIFT_F
    r = (x - kd * _LN2_HI_F) - kd * _LN2_LO_F
    r2 = r * r
    p = r + r2 * ((_F2 + r * _F3) + r2 * ((_F4 + r * _F5) + r2 * (_F6 + r * _F7)))
    half = k >> 1
    s1 = _f32_from_bits((half + 127) << 23)
    s2 = _f32_from_bits((k - half + 127) << 23)
    return (s1 + s1 * p) * s2


@_jit(**_EXACT)
def _log(x):
    """log(x) = e ln 2 + log(m), x = m 2**e with m in [sqrt(1/2), sqrt(2)), log(m) = 2 atanh(s), s = (m-1)/(m+1).

    Exact for 1; -inf for 0, inf for inf, NaN for NaN and negative x, as the C library.
    """
    subnormal = x < 2.2250738585072014e-308
    x = x * 4503599627370496.0 if subnormal else x  # times 2**52
    bits = _as_int64(x)
    e = (bits >> 52) - 1023 - (52 if subnormal else 0)
    m = _as_float64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)
    if m > _SQRT2:
        m *= 0.5
        e += 1
    s = (m - 1.0) / (m + 1.0)
    s2 = s * s
    s4 = s2 * s2
    s8 = s4 * s4
    q0 = (_L1 + s2 * _L2) + s4 * (_L3 + s2 * _L4)
    q1 = (_L5 + s2 * _L6) + s4 * (_L7 + s2 * _L8)
    q2 = (_L9 + s2 * _L10) + s4 * _L11
    log_m = s * _L0 + s * s2 * (q0 + s8 * (q1 + s8 * q2))
    ef = float(e)
    result = ef * _LN2_HI + (log_m + ef * _LN2_LO)
    if x == 0.0:
        result = -np.inf
    if x == np.inf:
        result = np.inf
    if not x >= 0.0:
        result = np.nan
    return result


def _sigmoid(z):
    """1 / (1 + exp(-z)) in the precision of z; exp overflows to inf, giving exactly 0 as in NumPy."""
    return 1.0 / (1.0 + math.exp(-z))


def _sigmoid_derivative(a):
    """a (1 - a): the derivative of the sigmoid written from its output a, in the precision of a."""
    return a * (1.0 - a)


# Each in float32 for float32 arguments: a Python float constant would make
# Numba compute in float64 and halve the width of the vectorized loops. Not
# inlined by Numba (which would cost compile time at every call site): LLVM
# inlines these small functions, and the loops around them still vectorize.
_OVERLOAD = dict(jit_options=dict(fastmath=_FASTMATH, error_model="numpy"))


@overload(_sigmoid, **_OVERLOAD)
def _sigmoid_typed(z):
    if z == types.float32:
        return lambda z: _ONE_F / (_ONE_F + _exp32(-z))
    return lambda z: 1.0 / (1.0 + _exp(-z))


def _zero(x):
    """0 in the precision of x: the start of a sum that stays in that precision."""
    return 0.0


@overload(_zero, **_OVERLOAD)
def _zero_typed(x):
    if x == types.float32:
        return lambda x: _F32(0.0)
    return lambda x: 0.0


@overload(_sigmoid_derivative, **_OVERLOAD)
def _sigmoid_derivative_typed(a):
    if a == types.float32:
        return lambda a: a * (_ONE_F - a)
    return lambda a: a * (1.0 - a)


@_jit(**_INLINE)
def _dense_sigmoid(A, W, b, Z, S, blk):
    """Z = A W + b (the dot first, then the bias) and S = sigmoid(Z), for block blk."""
    width = A.shape[2]
    for j in range(W.shape[1]):
        for i in range(width):
            Z[j, blk, i] = 0.0
        for k in range(W.shape[0]):
            w = W[k, j]
            for i in range(width):
                Z[j, blk, i] += A[k, blk, i] * w
        bj = b[0, j]
        for i in range(width):
            z = Z[j, blk, i] + bj
            Z[j, blk, i] = z
            S[j, blk, i] = _sigmoid(z)


@_jit(**_INLINE)
def _forward_block(X, W1, b1, W2, b2, hin, hout, oin, out, blk):
    """The forward pass of block blk: hidden = sigmoid(X W1 + b1), output = sigmoid(hidden W2 + b2)."""
    _dense_sigmoid(X, W1, b1, hin, hout, blk)
    _dense_sigmoid(hout, W2, b2, oin, out, blk)


@_jit(**_INLINE)
def _loss_term(p, t, lo, hi, binary):
    """t log p + (1 - t) log(1 - p), p clipped to [lo, hi], in float64 whatever the dtype (one specialization of _log).

    With binary targets (every t exactly 0 or 1, known to the caller) one of
    the two terms is zero times a finite log: only the other is computed. In
    general both are, and a zero weight gives a zero term. Either way the sum
    equals the tutorial's wherever that is finite.
    """
    p = np.float64(p)
    p = lo if p < lo else (hi if p > hi else p)  # a NaN stays NaN
    if binary:
        return _log(p if t == 1.0 else 1.0 - p)
    return t * _log(p) + (1.0 - t) * _log(1.0 - p)


@_jit(**_INLINE)
def _loss_block(Y, M, out, lo, hi, binary, blk):
    """-sum of the loss terms over the samples of block blk."""
    total = 0.0
    for k in range(out.shape[0]):
        for i in range(out.shape[2]):
            total += M[0, blk, i] * _loss_term(out[k, blk, i], Y[k, blk, i], lo, hi, binary)
    return -total


@_jit(**_INLINE)
def _gradient_block(X, Y, M, W2, hout, out, hd, od, gW1, gb1, gW2, gb2, exact, blk):
    """Add the gradient contributions of block blk to gW1, gb1, gW2, gb2.

    od = (out - y) out (1 - out) (the tutorial's rule) or, if exact,
    od = out - y (the gradient of the cross-entropy through the sigmoid);
    hd = (W2 od) hout (1 - hout);
    gW2 += hout od^T, gb2 += sum(od), gW1 += X^T hd^T, gb1 += sum(hd).
    Padding samples get zero deltas (od is multiplied by the mask M), so they
    add nothing. The sums over samples are written out rather than calls to
    an inlined helper: every inlined copy costs compile time.
    """
    f, h, o, width = X.shape[0], W2.shape[0], W2.shape[1], X.shape[2]
    for k in range(o):
        if exact:
            for i in range(width):
                od[k, blk, i] = (out[k, blk, i] - Y[k, blk, i]) * M[0, blk, i]
        else:
            for i in range(width):
                p = out[k, blk, i]
                od[k, blk, i] = (p - Y[k, blk, i]) * _sigmoid_derivative(p) * M[0, blk, i]
    for j in range(h):
        for i in range(width):
            hd[j, blk, i] = 0.0
        for k in range(o):
            w = W2[j, k]
            for i in range(width):
                hd[j, blk, i] += od[k, blk, i] * w
        for i in range(width):
            hd[j, blk, i] *= _sigmoid_derivative(hout[j, blk, i])
    for k in range(o):
        s = 0.0
        for i in range(width):
            s += od[k, blk, i]
        gb2[k] += s
        for j in range(h):
            s = 0.0
            for i in range(width):
                s += hout[j, blk, i] * od[k, blk, i]
            gW2[j, k] += s
    for j in range(h):
        s = 0.0
        for i in range(width):
            s += hd[j, blk, i]
        gb1[j] += s
        for k in range(f):
            s = 0.0
            for i in range(width):
                s += X[k, blk, i] * hd[j, blk, i]
            gW1[k, j] += s


@_jit(**_INLINE)
def _zero_gradients(gW1, gb1, gW2, gb2):
    for k in range(gW1.shape[0]):
        for j in range(gW1.shape[1]):
            gW1[k, j] = 0.0
    for j in range(gW2.shape[0]):
        gb1[j] = 0.0
        for k in range(gW2.shape[1]):
            gW2[j, k] = 0.0
    for k in range(gW2.shape[1]):
        gb2[k] = 0.0


@_jit(**_INLINE)
def _apply_gradients(W1, b1, W2, b2, gW1, gb1, gW2, gb2, lr):
    """W -= g lr for every parameter, in the tutorial's order; each g is reset to 0 for the next sum."""
    for j in range(W2.shape[0]):
        for k in range(W2.shape[1]):
            W2[j, k] -= gW2[j, k] * lr
            gW2[j, k] = 0.0
    for k in range(W2.shape[1]):
        b2[0, k] -= gb2[k] * lr
        gb2[k] = 0.0
    for k in range(W1.shape[0]):
        for j in range(W1.shape[1]):
            W1[k, j] -= gW1[k, j] * lr
            gW1[k, j] = 0.0
    for j in range(W1.shape[1]):
        b1[0, j] -= gb1[j] * lr
        gb1[j] = 0.0


@_jit(**_NJIT)
def _backward(X, Y, M, W1, b1, W2, b2, lr, exact, hout, out, hd, od, gW1, gb1, gW2, gb2):
    """One gradient step from stored activations; deltas use the weights before the update."""
    _zero_gradients(gW1, gb1, gW2, gb2)
    for blk in range(X.shape[1]):
        _gradient_block(X, Y, M, W2, hout, out, hd, od, gW1, gb1, gW2, gb2, exact, blk)
    _apply_gradients(W1, b1, W2, b2, gW1, gb1, gW2, gb2, lr)


@_jit(**_INLINE)
def _kept_losses(kept, ytile, mtile, count, per, lo, hi, binary, scale, losses, first):
    """losses[first + s] for the `count` epochs whose outputs are in kept (`per` values each).

    One long loop over all of them, which vectorizes, where a loop per epoch
    over a few samples would not: the same terms as _loss_block, summed per
    epoch. ytile and mtile hold y and the mask in kept's layout.
    """
    if binary:  # two loops, so that each is free of the test
        for j in range(count * per):
            kept[j] = mtile[j] * _loss_term(kept[j], ytile[j], lo, hi, True)
    else:
        for j in range(count * per):
            kept[j] = mtile[j] * _loss_term(kept[j], ytile[j], lo, hi, False)
    for s in range(count):
        total = 0.0
        for j in range(s * per, (s + 1) * per):
            total += kept[j]
        losses[first + s] = -total * scale


@_jit(**_NJIT)
def _train(X, Y, M, W1, b1, W2, b2, lr, lo, hi, binary, exact, losses, hin, hout, oin, out, hd, od, gW1, gb1, gW2, gb2,
           kept, ytile, mtile):
    """len(losses) full-batch epochs; losses[e] is the mean loss before epoch e's update.

    With no epoch (len(losses) == 0), only the forward pass: this is what
    forward() runs, so that the tutorial's script (train, then forward)
    compiles and loads a single kernel. Only X and the weights are read
    then, and hin, hout, oin, out written; nothing else is touched.

    Each epoch's output is copied into `kept`; once it holds the outputs of
    kept.size // out.size epochs (at least one), _kept_losses computes their
    losses together, in one long loop that vectorizes, off the epochs' own
    chain of work. ytile and mtile are Y and the mask repeated in kept's
    layout. (For the tutorial's four samples the epoch took 157-158 ns
    against 167 ns with the loss computed block by block.)

    Nothing here checks for NaN or overflow: the caller checks the losses and
    the weights after each call, which costs nothing per epoch. (Checking here
    would also need care: under _FASTMATH, "nsz" with "reassoc" lets LLVM
    rewrite np.isfinite(w - g * lr) to True.)
    """
    epochs = losses.shape[0]
    count = 0.0  # M.sum(), written out: the array method cost about 0.4 s of the first compile
    for blk in range(M.shape[1]):
        for i in range(M.shape[2]):
            count += M[0, blk, i]
    scale = 1.0 / (count * out.shape[0]) if epochs > 0 else 0.0
    flat = out.reshape(-1)
    per = flat.shape[0]
    slots = kept.shape[0] // per
    first = 0
    if epochs > 0:
        _zero_gradients(gW1, gb1, gW2, gb2)
    for e in range(max(epochs, 1)):  # one call site of each helper: every inlined copy costs compile time
        for blk in range(X.shape[1]):
            _forward_block(X, W1, b1, W2, b2, hin, hout, oin, out, blk)
            if epochs > 0:
                _gradient_block(X, Y, M, W2, hout, out, hd, od, gW1, gb1, gW2, gb2, exact, blk)
        if epochs == 0:
            return
        base = (e - first) * per
        for j in range(per):
            kept[base + j] = flat[j]
        _apply_gradients(W1, b1, W2, b2, gW1, gb1, gW2, gb2, lr)
        if e - first == slots - 1 or e == epochs - 1:
            _kept_losses(kept, ytile, mtile, e - first + 1, per, lo, hi, binary, scale, losses, first)
            first = e + 1


# Streaming kernels: X and Y stay as the caller holds them, (n_samples, units)
# in C order; each block of rows is gathered into one block of the packed
# layout (n_blocks = 1), so memory beyond the data is a block, not a copy.


@_jit(**_INLINE)
def _gather(A, order, start, stop, B):
    """B[:, 0, i] = A[order[start + i]] for i < stop - start (A[start + i] if order is empty); zeros after."""
    count = stop - start
    for i in range(count):
        r = order[start + i] if order.shape[0] else start + i
        for k in range(A.shape[1]):
            B[k, 0, i] = A[r, k]
    for k in range(A.shape[1]):
        for i in range(count, B.shape[2]):
            B[k, 0, i] = 0.0


@_jit(**_NJIT)
def _train_batches(X, Y, order, start, stop, batch, W1, b1, W2, b2, lr, lo, hi, binary, exact, loss_sum,
                   Xb, Yb, Mb, hin, hout, oin, out, hd, od, gW1, gb1, gW2, gb2):
    """Mini-batch steps on rows order[start:stop], `batch` rows per update; adds the loss of every block before its update to loss_sum[0].

    A batch wider than the block is run as several blocks whose gradients are
    summed in order before its one update. The loss is added block by block
    to loss_sum, so that its rounding does not depend on how an epoch is cut
    into calls.
    """
    width = Xb.shape[2]
    _zero_gradients(gW1, gb1, gW2, gb2)
    for first in range(start, stop, batch):
        last = min(stop, first + batch)
        for s in range(first, last, width):
            e = min(last, s + width)
            _gather(X, order, s, e, Xb)
            _gather(Y, order, s, e, Yb)
            for i in range(width):
                Mb[0, 0, i] = 1.0 if i < e - s else 0.0
            _forward_block(Xb, W1, b1, W2, b2, hin, hout, oin, out, 0)
            loss_sum[0] += _loss_block(Yb, Mb, out, lo, hi, binary, 0)
            _gradient_block(Xb, Yb, Mb, W2, hout, out, hd, od, gW1, gb1, gW2, gb2, exact, 0)
        _apply_gradients(W1, b1, W2, b2, gW1, gb1, gW2, gb2, lr)


@_jit(**_NJIT)
def _predict(X, W1, b1, W2, b2, P, order, Xb, hin, hout, oin, out):
    """P = sigmoid(sigmoid(X W1 + b1) W2 + b2), row by row as (n_samples, output_size); order is empty."""
    width = Xb.shape[2]
    for s in range(0, X.shape[0], width):
        e = min(X.shape[0], s + width)
        _gather(X, order, s, e, Xb)
        _forward_block(Xb, W1, b1, W2, b2, hin, hout, oin, out, 0)
        for i in range(e - s):
            for k in range(P.shape[1]):
                P[s + i, k] = out[k, 0, i]


# Row kernels of the large-data path: X W1 and X^T hd are BLAS products made
# by NumPy (see network.py); these kernels do everything between them, one
# block of rows at a time, over rows held in C order: (rows, units).


@_jit(**_NJIT)
def _add_chunk_sums(count, PW1, PW2, Pb2, Pb1, gW1, gW2, gb2, gb1):
    """gW1 += PW1[c], gW2 += PW2[c], gb2 += Pb2[c], gb1 += Pb1[c] for the chunks c < count, in chunk order.

    PW2, Pb2 and Pb1 are set back to 0 for the next block's sums (PW1 is
    overwritten by its BLAS product), as _apply_gradients does for the gradients.
    """
    for c in range(count):
        for k in range(gW1.shape[0]):
            for j in range(gW1.shape[1]):
                gW1[k, j] += PW1[c, k, j]
        for j in range(gW2.shape[0]):
            gb1[j] += Pb1[c, j]
            Pb1[c, j] = 0.0
            for k in range(gW2.shape[1]):
                gW2[j, k] += PW2[c, j, k]
                PW2[c, j, k] = 0.0
        for k in range(gW2.shape[1]):
            gb2[k] += Pb2[c, k]
            Pb2[c, k] = 0.0


@_jit(**_NJIT)
def _hidden_rows(Z, b1, W2, b2, Y, HD, od, lo, hi, binary, exact, gW2, gb2, gb1):
    """The rest of a block's forward and backward pass, from Z = X W1 of its rows.

    Z becomes hout = sigmoid(Z + b1); out = sigmoid(hout W2 + b2); od and
    HD get the output and hidden deltas (od by the `exact` rule or the
    tutorial's, HD = (od W2^T) hout (1 - hout)); gW2 += hout^T od,
    gb2 += sum(od), gb1 += sum(HD). Returns the block's summed loss, with the
    probabilities clipped to [lo, hi] as in _loss_block.

    256 rows at a time, in three passes, each its own compiled function:
    _output_inputs, _output_deltas (one loop over all the outputs, which
    vectorizes: row by row, the output's exp and the loss's log were scalar)
    and _hidden_deltas. The sums over rows are made in the data's precision,
    where they vectorize widest, and each 256 rows' partial sum is added to
    the float64 sums gW2, gb2, gb1. (For 10,000 rows, hidden 32, output 1:
    1.2 ms against 1.7 ms with one pass row by row, 1.55 ms with the three
    passes written in one function.)
    """
    h, o = W2.shape
    bW2 = np.zeros((h, o), Z.dtype)
    bb2 = np.zeros(o, Z.dtype)
    bb1 = np.zeros(h, Z.dtype)
    total = 0.0
    for first in range(0, Z.shape[0], 256):
        last = min(Z.shape[0], first + 256)
        Zr, odr, HDr = Z[first:last], od[first:last], HD[first:last]
        _output_inputs(Zr, b1, W2, b2, odr)
        total += _output_deltas(odr.reshape(-1), Y[first:last].reshape(-1), lo, hi, binary, exact)
        _hidden_deltas(Zr, W2, HDr, odr, bW2, bb2, bb1)
        for j in range(h):
            gb1[j] += bb1[j]
            bb1[j] = 0.0
            for k in range(o):
                gW2[j, k] += bW2[j, k]
                bW2[j, k] = 0.0
        for k in range(o):
            gb2[k] += bb2[k]
            bb2[k] = 0.0
    return -total


@_jit(**_NJIT)
def _output_inputs(Z, b1, W2, b2, oin):
    """Z becomes hout = sigmoid(Z + b1), row by row; oin = hout W2 + b2."""
    h, o = W2.shape
    for i in range(Z.shape[0]):
        H = Z[i]
        for j in range(h):
            H[j] = _sigmoid(H[j] + b1[0, j])
        for k in range(o):
            s = _zero(H[0])  # the output layer in the network's precision, as _forward_rows computes it
            for j in range(h):
                s += H[j] * W2[j, k]
            oin[i, k] = s + b2[0, k]


@_jit(**_NJIT)
def _output_deltas(od, y, lo, hi, binary, exact):
    """od (flat, holding the output's inputs) becomes the output deltas; returns the summed loss terms."""
    total = 0.0
    for m in range(od.shape[0]):
        p = _sigmoid(od[m])
        t = y[m]
        total += _loss_term(p, t, lo, hi, binary)
        od[m] = (p - t) if exact else (p - t) * _sigmoid_derivative(p)
    return total


@_jit(**_NJIT)
def _hidden_deltas(H, W2, HD, od, bW2, bb2, bb1):
    """HD = (od W2^T) H (1 - H), row by row; bW2 += H^T od, bb2 += sum(od), bb1 += sum(HD)."""
    h, o = W2.shape
    for i in range(H.shape[0]):
        Hi = H[i]
        hd = HD[i]
        for j in range(h):
            hd[j] = 0.0
        for k in range(o):
            d = od[i, k]
            bb2[k] += d
            for j in range(h):
                bW2[j, k] += Hi[j] * d
                hd[j] += d * W2[j, k]
        for j in range(h):
            hd[j] *= _sigmoid_derivative(Hi[j])
            bb1[j] += hd[j]


@_jit(**_NJIT)
def _bias_sigmoid_rows(Z, b, S):
    """Z += b, S = sigmoid(Z), over rows: the tutorial's dense layer after its BLAS product. S is not Z.

    (With S = Z, LLVM's check for overlap before the vectorized loop fails
    and its scalar version runs, 3.1-3.5 times slower in float64 and 5-5.6 in
    float32: see _bias_sigmoid_in_place.)
    """
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            z = Z[i, j] + b[0, j]
            Z[i, j] = z
            S[i, j] = _sigmoid(z)


@_jit(**_NJIT)
def _bias_sigmoid_in_place(Z, b):
    """Z = sigmoid(Z + b), over rows: the dense layer when its input is not kept; one array read and written."""
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            Z[i, j] = _sigmoid(Z[i, j] + b[0, j])
