"""The arithmetic every layout shares: exp, log, the sigmoid and its derivative, the loss, the deltas, the sums.

Scalar functions are plain calls that LLVM inlines into the loops around
them, at no cost to Numba's compile time; each of them computes in the
precision of its argument.
"""

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from .._config import EXACT, FASTMATH, INLINE
from . import jit


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


@jit(**EXACT)
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
_TINY_F = _F32(np.finfo(np.float32).tiny)  # the smallest normal float32


@jit(**EXACT)
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


@jit(**EXACT)
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
_OVERLOAD = dict(jit_options=dict(fastmath=FASTMATH, error_model="numpy"))


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


# The loss and the output delta, side by side: the delta is the gradient of
# the loss ("exact") or the tutorial's squared-error rule.


@jit(**INLINE)
def loss_term(p, t, lo, hi, binary):
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


def flush_subnormal(d):
    """d, or 0 where |d| is below the smallest normal number of its precision; NaN stays NaN.

    Every delta goes through this before it is stored. A saturated sigmoid
    gives subnormal deltas (float32: inputs below about -80), and each
    multiplication with a subnormal operand or result takes a microcode
    assist on x86: a few per thousand made the float32 product X^T HD 2-5x
    slower, in BLAS and in the kernels alike (docs/design.md). A subnormal
    delta adds less than 1.2e-38 |x| to a gradient sum, far below the
    rounding of any weight it updates.
    """
    return d if not abs(d) < 2.2250738585072014e-308 else 0.0


@overload(flush_subnormal, **_OVERLOAD)
def _flush_subnormal_typed(d):
    if d == types.float32:
        return lambda d: d if not abs(d) < _TINY_F else _F32(0.0)
    return lambda d: d if not abs(d) < 2.2250738585072014e-308 else 0.0


def output_delta(p, t, exact):
    """The output delta for output p and target t: p - t (exact) or the tutorial's (p - t) p (1 - p), subnormals flushed."""
    return flush_subnormal((p - t) if exact else (p - t) * _sigmoid_derivative(p))


@overload(output_delta, **_OVERLOAD)
def _output_delta_typed(p, t, exact):
    return lambda p, t, exact: flush_subnormal((p - t) if exact else (p - t) * _sigmoid_derivative(p))


# Gradient sums: always the tuple (gW1, gb1, gW2, gb2), in the order of the
# parameters (W1, b1, W2, b2); gb1 and gb2 are 1-D.


@jit(**INLINE)
def zero_sums(sums):
    """Every gradient sum set to 0: the start of a new sum."""
    gW1, gb1, gW2, gb2 = sums
    for k in range(gW1.shape[0]):
        for j in range(gW1.shape[1]):
            gW1[k, j] = 0.0
    for j in range(gb1.shape[0]):
        gb1[j] = 0.0
    for j in range(gW2.shape[0]):
        for k in range(gW2.shape[1]):
            gW2[j, k] = 0.0
    for k in range(gb2.shape[0]):
        gb2[k] = 0.0


@jit(**INLINE)
def add_sums(sums, more):
    """sums += more, each of the four (gW1 only where `more` has it: a (0, 0) gW1 adds nothing)."""
    gW1, gb1, gW2, gb2 = sums
    mW1, mb1, mW2, mb2 = more
    for k in range(mW1.shape[0]):
        for j in range(mW1.shape[1]):
            gW1[k, j] += mW1[k, j]
    for j in range(mb1.shape[0]):
        gb1[j] += mb1[j]
    for j in range(mW2.shape[0]):
        for k in range(mW2.shape[1]):
            gW2[j, k] += mW2[j, k]
    for k in range(mb2.shape[0]):
        gb2[k] += mb2[k]


@jit(**INLINE)
def apply_gradients(params, sums, lr):
    """W -= g lr for every parameter, in the tutorial's order (W2, b2, W1, b1); each g back to 0 for the next sum.

    The reset is fused into the update's loops, rather than a zero_sums call
    at the start of each sum: the tutorial's epoch has only nine sums, and
    four more loops cost it measurably (docs/design.md).
    """
    W1, b1, W2, b2 = params
    gW1, gb1, gW2, gb2 = sums
    w2, g2 = W2.reshape(-1), gW2.reshape(-1)  # flat: a loop over W2's rows of one output would not vectorize
    for i in range(w2.shape[0]):
        w2[i] -= g2[i] * lr
        g2[i] = 0.0
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
