// Log-space addition one value at a time, for the CUDA kernels and their host
// test.  A GPU thread handles one state, so this is the scalar formulation
// ln(e^a + e^b) = a + log1p(e^{b - a}) with a the larger, which the GPU's
// exp and log1p serve well; the CPU core adds whole rows with the vectorised
// functions of log_space.hpp instead.  A probability of zero is -inf and stays
// exact (never NaN); a NaN from the inputs propagates.
#pragma once

#include <cmath>

#include "../host_device.hpp"

namespace fastctc::lattice {

inline constexpr double kNegInf = -INFINITY;  // ln 0

// ln(e^a + e^b).
FASTCTC_HOST_DEVICE inline double log_add(double a, double b) {
    if (a < b) {  // make a the larger, unless one is NaN
        const double larger = b;
        b = a;
        a = larger;
    }
    if (b == kNegInf) return a;  // adding a zero probability; keeps -inf + -inf = -inf
    return a + std::log1p(std::exp(b - a));  // NaN in a or b propagates here
}

// ln(e^a + e^b + e^c) = m + ln(1 + e^{x - m} + e^{y - m}), with m the largest
// term and x, y the other two: two exponentials that do not wait for each
// other and one logarithm, where two chained log_add()s would take four
// dependent steps; a frame's recursion waits on this chain.
FASTCTC_HOST_DEVICE inline double log_add(double a, double b, double c) {
    if (a < b) {  // make a the largest, unless one is NaN
        const double larger = b;
        b = a;
        a = larger;
    }
    if (a < c) {
        const double larger = c;
        c = a;
        a = larger;
    }
    if (a == kNegInf && b == kNegInf && c == kNegInf) return a;  // three zero probabilities
    return a + std::log1p(std::exp(b - a) + std::exp(c - a));  // NaN in a, b or c propagates
}

}  // namespace fastctc::lattice
