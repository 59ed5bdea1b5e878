// Log-space arithmetic for the CTC recursions.
//
// Probabilities are carried as natural logarithms in double precision, so
// products become sums and sums become log_add().  A probability of zero is
// -inf, and every helper keeps -inf exact (never NaN) while letting a NaN from
// the inputs propagate.  Shared with the CUDA kernels (host_device.hpp).
#pragma once

#include <cmath>
#include <limits>

#include "host_device.hpp"

namespace fastctc {

inline constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// ln(e^a + e^b).
FASTCTC_HOST_DEVICE inline double log_add(double a, double b) {
    if (a < b) {  // a is now the larger, unless one is NaN
        const double larger = b;
        b = a;
        a = larger;
    }
    if (b == kNegInf) return a;  // adding a zero probability; keeps -inf + -inf = -inf
    return a + std::log1p(std::exp(b - a));  // NaN in a or b propagates here
}

// ln(e^a + e^b + e^c), always summed in this order so results are reproducible.
FASTCTC_HOST_DEVICE inline double log_add(double a, double b, double c) { return log_add(log_add(a, b), c); }

}  // namespace fastctc
