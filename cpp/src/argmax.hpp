// Choosing the largest of several log-probabilities, NumPy's way: the first
// one wins ties, and a NaN beats any number (so it reaches the result instead
// of being silently skipped by a comparison that is always false).
#pragma once

#include <cmath>
#include <cstdint>

namespace fastctc {

// Whether candidate replaces best, scanning candidates in order.
inline bool better(double candidate, double best) {
    return candidate > best || (std::isnan(candidate) && !std::isnan(best));
}

// The index of the largest of row[0], row[stride], ..., row[(count - 1) * stride].
template <typename Real>
int64_t argmax(const Real *row, int64_t count, int64_t stride) {
    int64_t best = 0;
    for (int64_t c = 1; c < count; ++c)
        if (better(double(row[c * stride]), double(row[best * stride]))) best = c;
    return best;
}

}  // namespace fastctc
