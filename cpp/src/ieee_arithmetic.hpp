// Plain IEEE arithmetic for the native work on a thread, whatever mode the
// thread was in.
//
// Flush-to-zero and denormals-are-zero are per-thread settings that other
// libraries change: TensorFlow sets them on its threads, PyTorch's
// set_flush_denormal on the calling thread, and a thread started by such a
// thread inherits them, as OpenMP's workers do.  With them, a subnormal result
// (a gradient of 1e-40 in float32) becomes 0 on some threads and not on
// others, so results would depend on the thread count; and the kernels also
// need round-to-nearest and NaN and infinity without traps.  Each thread that
// works for a call holds an IeeeArithmetic for the duration, which restores
// the thread's own mode after.
#pragma once

#if defined(__SSE2__) || defined(_M_X64)
#include <xmmintrin.h>
#else
#include <cfenv>
#endif

#include "isa.hpp"

namespace fastctc::FASTCTC_ISA {

class IeeeArithmetic {
public:
#if defined(__SSE2__) || defined(_M_X64)
    // x86-64 keeps the mode of its SSE arithmetic in MXCSR.  0x1F80: every
    // exception masked, round to nearest, no flush-to-zero, no denormals-are-zero.
    IeeeArithmetic() : saved_(_mm_getcsr()) { _mm_setcsr(0x1F80); }
    ~IeeeArithmetic() { _mm_setcsr(saved_); }
#else
    IeeeArithmetic() { std::fegetenv(&saved_); std::fesetenv(FE_DFL_ENV); }
    ~IeeeArithmetic() { std::fesetenv(&saved_); }
#endif
    IeeeArithmetic(const IeeeArithmetic &) = delete;
    IeeeArithmetic &operator=(const IeeeArithmetic &) = delete;

private:
#if defined(__SSE2__) || defined(_M_X64)
    unsigned int saved_;
#else
    std::fenv_t saved_;
#endif
};

}  // namespace fastctc::FASTCTC_ISA
