// The gradient rows, from the rows of alpha and beta that the lattice kernels
// left in the workspace.
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
#include "probability_lattice.hpp"
#include "softmax.cuh"
#include "warp.cuh"

namespace fastctc {
namespace cuda {

// Which sequences a gradient kernel writes (ctc_loss.cu).
enum class GradientPass {
    kAll,        // log-space rows, every sequence
    kTrusted,    // probability rows, those the lattice kernel did not mark; marks the frames it cannot vouch for
    kUntrusted,  // log-space rows, the sequences either kernel marked
};

// One frame of the log-space kernel's rows (forward_backward.cuh): gamma_t(s)
// = product(s) / z_t (lattice.hpp), with the frame's largest ln(alpha beta)
// as the shift.
struct LogRows {
    const double *log_alpha, *log_beta;
    double shift;

    template <typename Real>
    __device__ LogRows(const DeviceBatch<Real> &b, int64_t n, int64_t t, int64_t states, int lane)
        : log_alpha(b.alpha_row(n, t)), log_beta(b.beta_row(n, t)) {
        double largest = -INFINITY;
        for (int64_t s = lane; s < states; s += kWarpSize) {
            const double log_product = log_alpha[s] + log_beta[s];
            if (log_product > largest) largest = log_product;
        }
        shift = lattice::frame_shift(warp_max(largest));
    }
    __device__ double product(int64_t s) const { return lattice::scaled_product(log_alpha[s], log_beta[s], shift); }
    __device__ bool trusted(double) const { return true; }
};

// One frame of the probability-space kernel's rows (probability_recursions.cuh):
// gamma_t(s) = product(s) / z_t with the products scaled by 2^-top, and the
// certificate of probability_lattice.hpp.
struct ProbabilityRows {
    const double *alpha, *beta;
    const int32_t *alpha_exponent, *beta_exponent;
    int64_t states, top, lost;

    template <typename Real>
    __device__ ProbabilityRows(const DeviceBatch<Real> &b, int64_t n, int64_t t, int64_t states_, int lane)
        : alpha(b.alpha_row(n, t)), beta(b.beta_row(n, t)), alpha_exponent(b.alpha_exponent_row(n, t)),
          beta_exponent(b.beta_exponent_row(n, t)), states(states_) {
        namespace probability = lattice::probability;
        const int groups = int(probability::group_count(states));
        const int32_t *prev_alpha = t > 0 ? b.alpha_exponent_row(n, t - 1) : nullptr;
        const int32_t *next_beta = t + 1 < b.input_lengths[n] ? b.beta_exponent_row(n, t + 1) : nullptr;
        int64_t largest = 2 * int64_t(probability::kEmpty), largest_lost = probability::kEmpty;
        for (int g = lane; g < groups; g += kWarpSize) {
            const int64_t sum = int64_t(alpha_exponent[g]) + beta_exponent[g];
            if (sum > largest) largest = sum;
            const int64_t lost_here =
                probability::lost_exponent(prev_alpha, alpha_exponent, beta_exponent, next_beta, g, groups);
            if (lost_here > largest_lost) largest_lost = lost_here;
        }
        top = warp_max(largest);
        lost = warp_max(largest_lost);
    }
    __device__ double product(int64_t s) const {
        const int g = lattice::probability::group_of(int(s));
        return lattice::probability::scaled_product(alpha[s], beta[s], alpha_exponent[g], beta_exponent[g], top);
    }
    __device__ bool trusted(double z) const { return lattice::probability::frame_trusted(z, top, states, lost); }
};

// One warp per gradient row (t, n), every frame t < max_time, grid-strided,
// for the sequences of the pass.  First every class gets scale * y (or 0),
// then the classes of the label are overwritten with scale * (y - occupancy);
// __syncwarp() orders the two.
template <typename Real, typename Rows>
__global__ void __launch_bounds__(kRowThreads) gradient(DeviceBatch<Real> b, GradientPass pass) {
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
        if (pass == GradientPass::kTrusted && b.scratch.untrusted[n]) continue;
        if (pass == GradientPass::kUntrusted && !b.scratch.untrusted[n] && !b.scratch.unvouched[n]) continue;
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

        // gamma_t(s) = product(s) / z_t: dividing by the frame's own sum
        // (lattice.hpp, scaled_product()).
        const ExtendedLabel label = b.label(n);
        const Rows frame(b, n, t, label.size(), lane);
        double z = 0.0, blank = 0.0;
        for (int64_t s = lane; s < label.size(); s += kWarpSize) {
            const double p = frame.product(s);
            z += p;
            if (!(s & 1)) blank += p;
        }
        z = warp_sum(z);
        if (!frame.trusted(z)) {  // the log-space pass rewrites the whole sequence
            if (lane == 0) b.scratch.unvouched[n] = 1;
            continue;
        }
        const double inverse_z = 1.0 / z;
        const double blank_occupancy = warp_sum(blank) * inverse_z;
        __syncwarp();  // the softmax writes above come first

        if (lane == 0) grad[b.blank * stride] = Real(lattice::gradient(softmax(b.blank), blank_occupancy, scale));
        const int64_t *next = b.scratch.next_label + n * b.max_label_length;
        const int32_t *first_label = b.scratch.first_label + n * b.max_label_length;
        for (int64_t j = lane; j < label.label_length(); j += kWarpSize) {
            if (!first_label[j]) continue;  // its class is written from its first occurrence
            double occupancy = 0.0;
            for (int64_t i = j; i >= 0; i = next[i]) occupancy += frame.product(2 * i + 1);
            const int64_t c = label[2 * j + 1];
            grad[c * stride] = Real(lattice::gradient(softmax(c), occupancy * inverse_z, scale));
        }
    }
}

}  // namespace cuda
}  // namespace fastctc
