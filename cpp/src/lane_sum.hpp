// Sums whose order of additions is fixed by the source.
//
// A vectorising compiler may not reorder a floating-point sum, so a plain loop
// `sum += x[i]` stays scalar; OpenMP's `simd reduction` would vectorise it but
// leave the order to the compiler, which can differ between instruction sets,
// call sites or data alignments.  lane_sum() accumulates term i into lane
// i mod kLanes and combines the lanes pairwise: the compiler vectorises across
// the lanes, and the result is the same wherever and however it is compiled.
#pragma once

#include <cstdint>

#include "isa.hpp"

namespace fastctc::FASTCTC_ISA {

inline constexpr int kLanes = 8;

// sum over i in [0, n) of term(i), in double (or, lane by lane, in Pack<W>:
// pack.hpp).
template <typename Sum = double, typename Term>
inline Sum lane_sum(int64_t n, Term term) {
    Sum lane[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int k = 0; k < kLanes; ++k) lane[k] += term(i + k);
    // The last partial round lane by lane, each lane a fixed register: a loop over
    // a variable count of lanes would keep them all in memory.
    for (int k = 0; k < kLanes; ++k)
        if (i + k < n) lane[k] += term(i + k);
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

}  // namespace fastctc::FASTCTC_ISA
