/* The time loops of the three cells, forward and backward, in C.
 *
 * The same recurrences as rnnkit/core/{rnn,lstm,gru}.py, on the same buffers and
 * layouts (time-major states (T+1, B, d), gate-major gates (g, T, B, d), a (T, B)
 * mask of bytes), with the gate arithmetic of a step fused into one pass that gcc
 * vectorises. The per-step products h_{t-1} W are one GEMM per gate (up to 20% faster
 * on one thread) or one GEMM with the gates side by side (faster where BLAS splits it
 * over two threads), as the caller chooses, called through the BLAS pointers that
 * rnnkit_set_blas is given (NumPy's or SciPy's OpenBLAS: see rnnkit/core/kernels.py).
 *
 * Every function is written once, in recurrence_body.h, and compiled twice: for
 * float32, where tanh is a rational function accurate to a few float32 roundings
 * (the loop vectorises), and for float64, where it is libm's tanh (the gradient
 * checks run there; speed does not matter).
 *
 * A kernel can split its batch's rows, or the units of every row, over a team of
 * threads that also runs OpenBLAS's parallel products (team.h), so that the two never
 * compete for a core.
 *
 * The library is loaded with ctypes; it uses no Python API. PyInit_ exists only so
 * that setuptools, which builds it as an extension module, finds what it expects.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthreads under -std=c99 */
#include <math.h>
#include <stdint.h>
#include <string.h>

/* The Fortran BLAS interface, with 32-bit integers (LP64, SciPy's OpenBLAS) or 64-bit
 * ones (ILP64, the OpenBLAS of NumPy's wheels, whose symbols end in 64_). */
#define GEMM_TYPE(name, real, integer)                                                     \
    typedef void (*name)(const char *, const char *, const integer *, const integer *,    \
                         const integer *, const real *, const real *, const integer *,    \
                         const real *, const integer *, const real *, real *, const integer *)
GEMM_TYPE(sgemm_fn, float, int);
GEMM_TYPE(dgemm_fn, double, int);
GEMM_TYPE(sgemm64_fn, float, int64_t);
GEMM_TYPE(dgemm64_fn, double, int64_t);

static void *sgemm_ptr = 0, *dgemm_ptr = 0;
static int blas_ilp64 = 0;

/* The BLAS routines, set once before any other call; ilp64: they take 64-bit integers. */
void rnnkit_set_blas(void *sgemm, void *dgemm, int ilp64) {
    sgemm_ptr = sgemm;
    dgemm_ptr = dgemm;
    blas_ilp64 = ilp64;
}

/* The ABI version the Python side checks, so a stale build is never called. */
int rnnkit_kernels_version(void) { return 15; }

/* tanh in float32 as a rational function of odd/even degree 13/6 on [-7.9, 7.9]
 * (the coefficients of Eigen's and oneDNN's fast tanh): at most 4e-7 from the true
 * value, a handful of float32 roundings, with only multiply-adds, a division and
 * two compares, so that a loop of it vectorises. Beyond 7.9, tanh is 1 in float32. */
static inline float tanh_f32(float x) {
    const float clamp = 7.90531110763549805f;
    x = x > clamp ? clamp : x;  /* compiled with -fno-trapping-math: a select */
    x = x < -clamp ? -clamp : x;
    const float x2 = x * x;
    float p = -2.76076847742355e-16f;
    p = p * x2 + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    p = p * x;
    float q = 1.19825839466702e-06f;
    q = q * x2 + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return p / q;
}

/* Each kernel is compiled for AVX-512, AVX2 and the baseline (SSE2), and the loader
 * picks the widest the CPU has (gcc's function multiversioning): a portable build
 * whose gate loops still run 16 or 8 floats at a time. */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

static inline double tanh_f64(double x) { return tanh(x); }

#define GEMM_CALL(name, real, fn, fn64)                                                   \
    static inline void name(char ta, char tb, int m, int n, int k, const real *a, int lda,   \
                            const real *b, int ldb, real beta, real *c, int ldc) {           \
        const real one = 1;                                                                  \
        if (blas_ilp64) {                                                                    \
            const int64_t m_ = m, n_ = n, k_ = k, lda_ = lda, ldb_ = ldb, ldc_ = ldc;        \
            ((fn64)name##_ptr())(&ta, &tb, &m_, &n_, &k_, &one, a, &lda_, b, &ldb_, &beta, c, \
                                 &ldc_);                                                     \
        } else {                                                                             \
            ((fn)name##_ptr())(&ta, &tb, &m, &n, &k, &one, a, &lda, b, &ldb, &beta, c, &ldc); \
        }                                                                                    \
    }
static inline void *sgemm_call_ptr(void) { return sgemm_ptr; }
static inline void *dgemm_call_ptr(void) { return dgemm_ptr; }
GEMM_CALL(sgemm_call, float, sgemm_fn, sgemm64_fn)
GEMM_CALL(dgemm_call, double, dgemm_fn, dgemm64_fn)

#include "team.h"

#define REAL float
#define SUFFIX(name) name##_f32
#define TANH tanh_f32
#define GEMM sgemm_call
#include "recurrence_body.h"
#undef REAL
#undef SUFFIX
#undef TANH
#undef GEMM

#define REAL double
#define SUFFIX(name) name##_f64
#define TANH tanh_f64
#define GEMM dgemm_call
#include "recurrence_body.h"

void *PyInit_recurrence_kernels(void) { return 0; }
