// Overflow-checked arithmetic on non-negative sizes, portable to compilers
// without __builtin_*_overflow.  Each returns false (leaving *out unspecified)
// when the exact result does not fit in T.
#pragma once

#include <limits>

namespace fastctc {

template <typename T>
bool checked_add(T a, T b, T *out) {
    if (a > std::numeric_limits<T>::max() - b) return false;
    *out = a + b;
    return true;
}

template <typename T>
bool checked_mul(T a, T b, T *out) {
    if (a != 0 && b > std::numeric_limits<T>::max() / a) return false;
    *out = a * b;
    return true;
}

}  // namespace fastctc
