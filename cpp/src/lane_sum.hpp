// Sums whose order of additions is fixed by the source.
//
// A vectorising compiler may not reorder a floating-point sum, so a plain loop
// `sum += x[i]` stays scalar; OpenMP's `simd reduction` would vectorise it but
// leave the order to the compiler, which can differ between instruction sets,
// call sites or data alignments.  lane_sum() accumulates term i into lane
// i mod Lanes (kLanes unless the call site says otherwise) and combines the
// lanes pairwise: the compiler vectorises across the lanes, and the result is
// the same wherever and however it is compiled.
#pragma once

#include <cstdint>

#include "isa.hpp"

namespace fastctc::FASTCTC_ISA {

inline constexpr int kLanes = 8;

// lane[first], ..., lane[first + count - 1] combined by combine(a, b), halves
// first (count a power of two): for a sum, an order fixed by the source; for an
// exact operation (the smallest, the largest), a tree of independent steps
// where combining the lanes in turn is a chain.
template <int First, int Count, typename T, typename Combine>
FASTCTC_ALWAYS_INLINE T pairwise(const T *lane, Combine combine) {
    if constexpr (Count == 1)
        return lane[First];
    else
        return combine(pairwise<First, Count / 2>(lane, combine),
                       pairwise<First + Count / 2, Count / 2>(lane, combine));
}

// The sum of lane[0, Lanes) as lane_sum() combines its lanes: pairwise, halves
// first.  The one order of every sum kept in lanes of eight (lane_sum(),
// sum_in_loaded_chunks(), a group's class tables, one sequence's products).
template <typename Sum, int Lanes>
FASTCTC_ALWAYS_INLINE Sum added_lanes(const Sum (&lane)[Lanes]) {
    return pairwise<0, Lanes>(lane, [](Sum a, Sum b) { return a + b; });
}

// sum over i in [0, n) of term(i), in double (or, lane by lane, in Pack<W>:
// pack.hpp).
//
// For a scalar sum the lanes are an array, whose rounds the compiler vectorises
// whole, terms included (a term may be an exponential).  An array of eight
// wider sums (Pack<4>: four doubles each) is too big for it to keep in
// registers, and it zeroed, summed into and read back the lanes through memory;
// for those the lanes are eight named variables, with a switch for the last
// round.  Either way lane k takes terms k, k + Lanes, ... in order.
template <typename Sum = double, int Lanes = kLanes, typename Term>
FASTCTC_ALWAYS_INLINE Sum lane_sum(int64_t n, Term term) {
    int64_t i = 0;
    if constexpr (sizeof(Sum) <= sizeof(double)) {
        Sum lane[Lanes] = {};
        for (; i + Lanes <= n; i += Lanes)
            for (int k = 0; k < Lanes; ++k) lane[k] += term(i + k);
        // The last partial round lane by lane, each lane a fixed register: a loop over
        // a variable count of lanes would keep them all in memory.
        for (int k = 0; k < Lanes; ++k)
            if (i + k < n) lane[k] += term(i + k);
        return added_lanes(lane);
    } else {
        static_assert(Lanes == 8, "eight named lanes");
        Sum s0{}, s1{}, s2{}, s3{}, s4{}, s5{}, s6{}, s7{};
        for (; i + 8 <= n; i += 8) {
            s0 += term(i), s1 += term(i + 1), s2 += term(i + 2), s3 += term(i + 3);
            s4 += term(i + 4), s5 += term(i + 5), s6 += term(i + 6), s7 += term(i + 7);
        }
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
}

}  // namespace fastctc::FASTCTC_ISA
