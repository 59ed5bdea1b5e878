// The log-softmax normaliser of every frame, for logits.
//
// With logits u the network output is y^t_k = e^{u^t_k} / sum_c e^{u^t_c}
// (Graves et al. 2006, eq. (1) feeds on y), so ln y^t_k = u^t_k - ln Z_t with
// ln Z_t = ln sum_c e^{u^t_c}.  As in frame.hpp, ln Z_t is computed in double
// after subtracting the row maximum (a NaN never becomes the maximum), so a
// NaN in the row, a row of -inf and a row holding +inf all give NaN, as on
// the CPU; only the order of the sum differs (a fixed warp tree here).
#pragma once

#include <cmath>
#include <cstdint>

#include "device_batch.cuh"
#include "warp.cuh"

namespace fastctc {
namespace cuda {

constexpr int kRowWarps = 8;  // warps per block of the one-warp-per-frame kernels
constexpr int kRowThreads = kRowWarps * kWarpSize;

// Calls frame(n, t, lane) in every lane of one warp for each frame (t, n)
// that the lattice reads, t < input_lengths[n] of a possible sequence, warps
// grid-strided over the batch's rows (kRowWarps a block); nothing for a batch
// whose device lengths or labels failed check_batch.  Padding frames and
// frames of impossible sequences are never read.
template <typename Real, typename Frame>
__device__ void for_each_read_frame(const DeviceBatch<Real> &b, Frame frame) {
    if (!*b.scratch.batch_valid) return;
    const int lane = threadIdx.x % kWarpSize;
    const int64_t rows = b.batch_size * b.max_time;
    const int64_t first = int64_t(blockIdx.x) * kRowWarps + threadIdx.x / kWarpSize;
    for (int64_t r = first; r < rows; r += int64_t(gridDim.x) * kRowWarps) {
        const int64_t n = r / b.max_time, t = r % b.max_time;
        if (t >= b.input_lengths[n] || b.scratch.impossible[n]) continue;  // the same in every lane
        frame(n, t, lane);
    }
}

// One warp per frame read (for_each_read_frame()).
template <typename Real>
__global__ void __launch_bounds__(kRowThreads) log_normalisers(DeviceBatch<Real> b) {
    for_each_read_frame(b, [&](int64_t n, int64_t t, int lane) {
        const Real *row = b.input_row(t, n);
        const int64_t stride = b.input_strides[2];
        double max = -INFINITY;
        for (int64_t c = lane; c < b.num_classes; c += kWarpSize) {
            const double v = row[c * stride];
            if (v > max) max = v;
        }
        max = warp_max(max);
        double sum = 0.0;
        for (int64_t c = lane; c < b.num_classes; c += kWarpSize) sum += exp(double(row[c * stride]) - max);
        sum = warp_sum(sum);
        if (lane == 0) b.scratch.log_norm[n * b.max_time + t] = max + log(sum);
    });
}

}  // namespace cuda
}  // namespace fastctc
