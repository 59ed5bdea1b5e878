// a * b + c, fused into one rounding where the target has FMA instructions.
//
// Kernels are compiled with -ffp-contract=off, so the compiler never fuses on
// its own: whether an expression is rounded once or twice is decided here, in
// the source, identically at every call site.  That keeps results independent of
// inlining and vectorisation decisions, which bit-identical results need.
#pragma once

#include <cmath>

#include "isa.hpp"

namespace fastctc::FASTCTC_ISA {

template <typename Real>
FASTCTC_ALWAYS_INLINE Real fused_multiply_add(Real a, Real b, Real c) {
// MSVC's /arch:AVX2 defines only __AVX2__; the dispatcher selects that level
// only on CPUs that also have FMA.
#if defined(__FMA__) || defined(__AVX2__) || defined(__ARM_FEATURE_FMA)
    return std::fma(a, b, c);
#else
    return a * b + c;
#endif
}

}  // namespace fastctc::FASTCTC_ISA
