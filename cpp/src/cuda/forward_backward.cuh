// The forward and backward recursions of the CTC lattice on the GPU.
//
// Graves et al. 2006, Section 4.1, with the per-state steps of lattice.hpp.
// One block per sequence; its threads share the extended label's states
// (thread i takes states i, i + blockDim.x, ...: no cap on the label length),
// and one barrier per frame separates frame t from frame t + 1, because state
// s of frame t reads states s, s - 1 and s - 2 of frame t - 1 (eqs. (6)-(7);
// s + 1 and s + 2 going backward, eqs. (10)-(11)).  The rows live in the
// workspace in global memory, where __syncthreads() also orders them.
//
// Numerical twist: log space in double precision, as in forward_backward.hpp,
// whatever the input type.  Each state is computed by one thread with one
// formula, so the results do not depend on the block size.
#pragma once

#include <cmath>
#include <cstdint>

#include "device_batch.cuh"
#include "lattice.hpp"

namespace fastctc {
namespace cuda {

constexpr int kLatticeMaxThreads = 512;

// Threads per block for labels of up to max_states states: one per state,
// in whole warps, up to kLatticeMaxThreads.
inline int lattice_threads(int64_t max_states) {
    const int64_t warps = (max_states + 31) / 32;
    return warps * 32 < kLatticeMaxThreads ? int(warps * 32) : kLatticeMaxThreads;
}

// ln alpha for every frame of sequence blockIdx.x (all rows with a gradient,
// two rolling rows without), then ln p(l|x) and the loss.
template <typename Real>
__global__ void __launch_bounds__(kLatticeMaxThreads) forward(DeviceBatch<Real> b) {
    const int64_t n = blockIdx.x;
    const bool first_thread = threadIdx.x == 0;
    if (!*b.scratch.batch_valid) {  // invalid device lengths or labels: NaN throughout
        if (first_thread) b.losses[n] = Real(NAN);
        return;
    }
    const ExtendedLabel label = b.label(n);
    const int64_t frames = b.input_lengths[n], states = label.size();
    const bool keep_all_rows = b.grad != nullptr;

    double log_p = 0.0;  // frames == 0 with an empty label: the empty path, probability 1
    if (b.scratch.impossible[n]) {
        log_p = -INFINITY;  // too few frames: no alignment exists, inputs are not read
    } else if (frames > 0) {
        const double *prev = nullptr;
        for (int64_t t = 0; t < frames; ++t) {
            double *cur = b.alpha_row(n, keep_all_rows ? t : (t & 1));
            const Real *row = b.input_row(t, n);
            const double log_norm = b.log_norm(t, n);
            for (int64_t s = threadIdx.x; s < states; s += blockDim.x)
                cur[s] = lattice::alpha(label, prev, s, b.log_emission(row, label, s, log_norm));
            __syncthreads();  // frame t complete before frame t + 1 reads it
            prev = cur;
        }
        log_p = lattice::log_likelihood(prev, states);  // eq. (8)
    }
    if (first_thread) {
        b.scratch.log_p[n] = log_p;
        double loss = -log_p;
        if (b.zero_infinity && loss == INFINITY) loss = 0.0;  // impossible alignment
        b.losses[n] = Real(loss);
    }
}

// ln beta backward from the last frame of sequence blockIdx.x, replacing each
// ln alpha_t(s) by the occupancy gamma_t(s) (eqs. (14)-(15)) for the gradient
// kernel.  Skips what gets a zero gradient: invalid batches, impossible
// sequences and those of probability 0.
template <typename Real>
__global__ void __launch_bounds__(kLatticeMaxThreads) backward(DeviceBatch<Real> b) {
    const int64_t n = blockIdx.x;
    if (!*b.scratch.batch_valid || b.scratch.impossible[n]) return;
    const double log_p = b.scratch.log_p[n];
    if (log_p == -INFINITY) return;
    const ExtendedLabel label = b.label(n);
    const int64_t frames = b.input_lengths[n], states = label.size();

    // next holds ln(beta_{t+1} y^{t+1}) for frame t to read; cur receives the
    // same quantity for frame t.  Two rows, swapped every frame.
    const double *next = nullptr;
    for (int64_t t = frames - 1; t >= 0; --t) {
        double *cur = b.beta_row(n, t & 1);
        double *alpha_t = b.alpha_row(n, t);
        const Real *row = b.input_row(t, n);
        const double log_norm = b.log_norm(t, n);
        for (int64_t s = threadIdx.x; s < states; s += blockDim.x) {
            const double log_beta = lattice::beta(label, next, s, states);
            alpha_t[s] = lattice::occupancy(alpha_t[s], log_beta, log_p);
            cur[s] = log_beta + b.log_emission(row, label, s, log_norm);
        }
        __syncthreads();  // frame t complete before frame t - 1 reads it
        next = cur;
    }
}

}  // namespace cuda
}  // namespace fastctc
