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

// ln(e^a + e^b + e^c), always summed in this order so results are reproducible.
FASTCTC_HOST_DEVICE inline double log_add(double a, double b, double c) { return log_add(log_add(a, b), c); }

}  // namespace fastctc::lattice
