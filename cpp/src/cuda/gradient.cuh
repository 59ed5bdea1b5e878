// The gradient rows, from the rows of ln alpha and ln beta that the lattice
// kernel left in the workspace.
//
// Graves et al. 2006, eq. (16): with occupancy(t, k) the sum of gamma_t(s)
// over the states s with l'_s = k,
//     d(-ln p) / d u^t_k    = y^t_k - occupancy(t, k)    (logits u)
//     d(-ln p) / d ln y^t_k =       - occupancy(t, k)    (log-scores)
// scaled by grad_scale[n].  Each sum runs in a fixed order (a warp tree for
// the frame's normaliser and the blank, the class chain in increasing s for a
// label class), so the gradient is bit-identical from run to run; no atomics.
#pragma once

#include <cmath>
#include <cstdint>

#include "device_batch.cuh"
#include "lattice.hpp"
#include "softmax.cuh"
#include "warp.cuh"

namespace fastctc {
namespace cuda {

// One warp per gradient row (t, n), every frame t < max_time, grid-strided.
// First every class gets scale * y (or 0), then the classes of the label are
// overwritten with scale * (y - occupancy); __syncwarp() orders the two.
template <typename Real>
__global__ void __launch_bounds__(kRowThreads) gradient(DeviceBatch<Real> b) {
    const int lane = threadIdx.x % kWarpSize;
    const int64_t rows = b.batch_size * b.max_time;
    const int64_t first = int64_t(blockIdx.x) * kRowWarps + threadIdx.x / kWarpSize;
    const bool valid = *b.scratch.batch_valid != 0;
    for (int64_t r = first; r < rows; r += int64_t(gridDim.x) * kRowWarps) {
        const int64_t n = r / b.max_time, t = r % b.max_time;
        Real *grad = b.grad_row(t, n);
        const int64_t stride = b.grad_strides[2];
        // Every branch below depends on (t, n) alone: the warp stays converged.
        if (!valid) {  // invalid device lengths or labels: NaN throughout
            for (int64_t c = lane; c < b.num_classes; c += kWarpSize) grad[c * stride] = Real(NAN);
            continue;
        }
        // Padding frames, impossible sequences and sequences of probability 0
        // get exact zeros.
        if (t >= b.input_lengths[n] || b.scratch.impossible[n] || b.scratch.log_p[n] == -INFINITY) {
            for (int64_t c = lane; c < b.num_classes; c += kWarpSize) grad[c * stride] = Real(0);
            continue;
        }

        const Real *row = b.input_row(t, n);
        const int64_t input_stride = b.input_strides[2];
        const double log_norm = b.log_norm(t, n);
        const double scale = b.grad_scale ? double(b.grad_scale[n]) : 1.0;
        // y^t_k, or 0 for log-scores.
        auto softmax = [&](int64_t c) { return b.log_probs ? 0.0 : exp(double(row[c * input_stride]) - log_norm); };

        for (int64_t c = lane; c < b.num_classes; c += kWarpSize) grad[c * stride] = Real(scale * softmax(c));

        // gamma_t(s) = scaled_product(s) / z_t (lattice.hpp): the frame's
        // largest ln(alpha beta) first, then the sums.
        const ExtendedLabel label = b.label(n);
        const double *log_alpha = b.alpha_row(n, t), *log_beta = b.beta_row(n, t);
        double largest = -INFINITY;
        for (int64_t s = lane; s < label.size(); s += kWarpSize) {
            const double log_product = log_alpha[s] + log_beta[s];
            if (log_product > largest) largest = log_product;
        }
        const double shift = lattice::frame_shift(warp_max(largest));
        auto product = [&](int64_t s) { return lattice::scaled_product(log_alpha[s], log_beta[s], shift); };
        double z = 0.0, blank = 0.0;
        for (int64_t s = lane; s < label.size(); s += kWarpSize) {
            const double p = product(s);
            z += p;
            if (!(s & 1)) blank += p;
        }
        const double inverse_z = 1.0 / warp_sum(z);
        const double blank_occupancy = warp_sum(blank) * inverse_z;
        __syncwarp();  // the softmax writes above come first

        if (lane == 0) grad[b.blank * stride] = Real(lattice::gradient(softmax(b.blank), blank_occupancy, scale));
        const int64_t *next = b.scratch.next_label + n * b.max_label_length;
        const int32_t *first_label = b.scratch.first_label + n * b.max_label_length;
        for (int64_t j = lane; j < label.label_length(); j += kWarpSize) {
            if (!first_label[j]) continue;  // its class is written from its first occurrence
            double occupancy = 0.0;
            for (int64_t i = j; i >= 0; i = next[i]) occupancy += product(2 * i + 1);
            const int64_t c = label[2 * j + 1];
            grad[c * stride] = Real(lattice::gradient(softmax(c), occupancy * inverse_z, scale));
        }
    }
}

}  // namespace cuda
}  // namespace fastctc
