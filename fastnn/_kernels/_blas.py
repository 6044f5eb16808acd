"""NumPy's own BLAS product, called from compiled code: the row path's epochs of one block in one compiled call.

`matmul(blas, A, B, C)` makes the call that NumPy's np.matmul(A, B, out=C)
makes for 2-d float arrays of at least two rows and columns each (a
gemm, each operand as it lies, transposed where its columns are its
unit-stride axis), to the same library: the same bits. `blas` is the
address of that library's cblas_sgemm or cblas_dgemm
(_threads.gemm_address), given at run time rather than compiled in, so
that the kernels that call it are cached like the others.
"""

from llvmlite import ir
from numba import types
from numba.core import errors
from numba.extending import intrinsic

from .._config import INLINE, NJIT
from . import jit

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


@intrinsic
def _gemm(typingctx, address, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc):
    """cblas_?gemm(RowMajor, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc) at `address`: OpenBLAS with 64-bit integers."""
    kinds = {getattr(a, "dtype", None) for a in (A, B, C)}
    if len(kinds) != 1 or kinds.pop() not in (types.float32, types.float64):
        raise errors.TypingError(f"_gemm multiplies float32 or float64 arrays of one dtype, not {A}, {B} and {C}")
    sig = types.void(address, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)

    def codegen(context, builder, signature, args):
        kinds = signature.args
        enum, size = ir.IntType(32), ir.IntType(64)  # C's enum; OpenBLAS's blasint with INTERFACE64
        real = context.get_value_type(kinds[7].dtype)
        pointer = ir.IntType(8).as_pointer()
        function = ir.FunctionType(ir.VoidType(), [enum, enum, enum, size, size, size, real, pointer, size, pointer,
                                                   size, real, pointer, size])

        def value(i, kind):
            return context.cast(builder, args[i], kinds[i], kind)

        def data(i):
            return builder.bitcast(context.make_array(kinds[i])(context, builder, args[i]).data, pointer)

        integer, dtype = types.int64, kinds[7].dtype
        callee = builder.inttoptr(value(0, types.intp), function.as_pointer())
        builder.call(callee, [ir.Constant(enum, _ROW_MAJOR), value(1, types.int32), value(2, types.int32),
                              value(3, integer), value(4, integer), value(5, integer), value(6, dtype), data(7),
                              value(8, integer), data(9), value(10, integer), value(11, dtype), data(12),
                              value(13, integer)])
        return context.get_dummy_value()

    return sig, codegen


@jit(**INLINE)
def _operand(A):
    """(transposed, leading dimension) of A as NumPy's matmul passes it: as it lies where its rows are unit-stride."""
    size = A.itemsize
    if A.strides[1] == size:
        return _NO_TRANS, A.strides[0] // size
    return _TRANS, A.strides[1] // size


@jit(**NJIT)
def matmul(blas, A, B, C):
    """C = A B by the BLAS at `blas`, as np.matmul(A, B, out=C): A (m, k), B (k, n), C (m, n) with unit-stride rows."""
    ta, lda = _operand(A)
    tb, ldb = _operand(B)
    _gemm(blas, ta, tb, A.shape[0], B.shape[1], A.shape[1], 1.0, A, lda, B, ldb, 0.0, C, C.strides[0] // C.itemsize)
