// Reductions across the 32 lanes of a warp in a fixed order, so that their
// results are bit-identical from run to run (no atomics anywhere).
#pragma once

#include <cstdint>

namespace fastctc {
namespace cuda {

constexpr int kWarpSize = 32;
constexpr unsigned kFullMask = 0xffffffffu;

// The sum of v over the warp, by a fixed tree (lane i adds lane i + 16, then
// i + 8, ...), broadcast from lane 0 so that every lane holds the same bits.
__device__ inline double warp_sum(double v) {
    for (int offset = kWarpSize / 2; offset > 0; offset /= 2) v += __shfl_down_sync(kFullMask, v, offset);
    return __shfl_sync(kFullMask, v, 0);
}

// The largest v over the warp, for lanes that hold no NaN, broadcast from
// lane 0.  A maximum does not depend on the order it is taken in.
__device__ inline double warp_max(double v) {
    for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
        const double other = __shfl_down_sync(kFullMask, v, offset);
        if (other > v) v = other;
    }
    return __shfl_sync(kFullMask, v, 0);
}

// The same for an integer.
__device__ inline int64_t warp_max(int64_t v) {
    for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
        const int64_t other = __shfl_down_sync(kFullMask, static_cast<long long>(v), offset);
        if (other > v) v = other;
    }
    return __shfl_sync(kFullMask, static_cast<long long>(v), 0);
}

}  // namespace cuda
}  // namespace fastctc
