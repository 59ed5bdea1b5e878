// Log-space arithmetic for the CTC recursions.
//
// Probabilities are carried as natural logarithms in double precision, so
// products become sums and sums become log_add().  A probability of zero is
// -inf, and every helper keeps -inf exact (never NaN) while letting a NaN from
// the inputs propagate.
#pragma once

#include <cmath>
#include <limits>
#include <utility>

namespace fastctc {

inline constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// ln(e^a + e^b).
inline double log_add(double a, double b) {
    if (a < b) std::swap(a, b);  // a is now the larger, unless one is NaN
    if (b == kNegInf) return a;  // adding a zero probability; keeps -inf + -inf = -inf
    return a + std::log1p(std::exp(b - a));  // NaN in a or b propagates here
}

// ln(e^a + e^b + e^c), always summed in this order so results are reproducible.
inline double log_add(double a, double b, double c) { return log_add(log_add(a, b), c); }

}  // namespace fastctc
