// Sums whose order of additions is fixed by the source.
//
// A vectorising compiler may not reorder a floating-point sum, so a plain loop
// `sum += x[i]` stays scalar; OpenMP's `simd reduction` would vectorise it but
// leave the order to the compiler, which can differ between instruction sets,
// call sites or data alignments.  lane_sum() accumulates term i into lane
// i mod 8 and combines the lanes pairwise: the compiler vectorises across
// the lanes, and the result is the same wherever and however it is compiled.
#pragma once

#include <cstdint>

#include "isa.hpp"

namespace fastctc::FASTCTC_ISA {

// sum over i in [0, n) of term(i), in double (or, lane by lane, in Pack<W>:
// pack.hpp).  The eight lanes are named variables, not an array: an array of
// eight Pack<4> is too big for the compiler to keep in registers, and it was
// zeroed, summed into and read back through memory.
template <typename Sum = double, typename Term>
FASTCTC_ALWAYS_INLINE Sum lane_sum(int64_t n, Term term) {
    Sum s0{}, s1{}, s2{}, s3{}, s4{}, s5{}, s6{}, s7{};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 += term(i), s1 += term(i + 1), s2 += term(i + 2), s3 += term(i + 3);
        s4 += term(i + 4), s5 += term(i + 5), s6 += term(i + 6), s7 += term(i + 7);
    }
    // The last partial round: its n - i terms, each into its lane.
    switch (n - i) {
        case 7: s6 += term(i + 6); [[fallthrough]];
        case 6: s5 += term(i + 5); [[fallthrough]];
        case 5: s4 += term(i + 4); [[fallthrough]];
        case 4: s3 += term(i + 3); [[fallthrough]];
        case 3: s2 += term(i + 2); [[fallthrough]];
        case 2: s1 += term(i + 1); [[fallthrough]];
        case 1: s0 += term(i); [[fallthrough]];
        default: break;
    }
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
}

}  // namespace fastctc::FASTCTC_ISA
