// The forward and backward recursions in probability space: the fast path of
// the lattice with a gradient.
//
// First a kernel as wide as the batch computes the emissions y^t of the blank
// and of each label position for every frame (the emission table in the
// workspace), so that the recursions, which run a frame at a time in one
// block per sequence and direction, need no exponential.  The recursions use
// the blocks, threads and rolling rows of the log-space kernel
// (forward_backward.cuh) with the per-state steps of probability_lattice.hpp:
// a frame's chain of dependent steps is two additions and a product per
// state, then a 32-bit maximum over the warp for its group's scale.  Kept
// rows hold the scaled values (alpha and beta in the workspace) and each
// group's exponent (alpha_exponent, beta_exponent); the gradient kernel
// multiplies them back together.
//
// A sequence with an emission above 1 or NaN is marked untrusted by the
// emission kernel, one whose likelihood comes out 0 or not finite by the
// forward recursion; the gradient kernel marks those it cannot vouch for; the
// log-space kernels then recompute them (ctc_loss.cu).  Each state is
// computed by one thread with one formula, and each group's scale is the
// exact maximum of its values, so the results do not depend on the block
// size.
#pragma once

#include <cmath>
#include <cstdint>

#include "device_batch.cuh"
#include "forward_backward.cuh"
#include "probability_lattice.hpp"
#include "softmax.cuh"
#include "warp.cuh"

namespace fastctc {
namespace cuda {

namespace probability = lattice::probability;

// The largest upper word over the warp (probability_lattice.hpp, high_word()).
__device__ inline uint32_t warp_max_word(uint32_t word) {
#if __CUDA_ARCH__ >= 800
    return __reduce_max_sync(kFullMask, word);
#else
    for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
        const uint32_t other = __shfl_xor_sync(kFullMask, word, offset);
        word = other > word ? other : word;
    }
    return word;
#endif
}

// The table position of state s's class: 0 for the blank, 1 + j for label
// position j (state 2j + 1).
__device__ inline int emission_position(int s) { return (s & 1) ? (s + 1) >> 1 : 0; }

// One warp per frame read (for_each_read_frame()): y^t of the blank and of
// each label position, e^{ln y} in double (ln y as lattice.hpp's emissions).
// Marks the sequence untrusted if one is above 1 or NaN, which the
// probability path leaves to log space.
template <typename Real>
__global__ void __launch_bounds__(kRowThreads) probability_emissions(DeviceBatch<Real> b) {
    for_each_read_frame(b, [&](int64_t n, int64_t t, int lane) {
        const ExtendedLabel label = b.label(n);
        const Real *row = b.input_row(t, n);
        const double log_norm = b.log_norm(t, n);
        double *y = b.emission_row(n, t);
        bool broken = false;
        for (int64_t p = lane; p <= label.label_length(); p += kWarpSize) {
            const int32_t k = label[p == 0 ? 0 : 2 * p - 1];
            const double log_y = double(row[int64_t(k) * b.input_strides[2]]) - log_norm;
            broken = broken || !(log_y <= 0.0);
            y[p] = exp(log_y);
        }
        if (__any_sync(kFullMask, broken) && lane == 0) b.scratch.untrusted[n] = 1;
    });
}

// A sequence's rows of the emission table, and the positions of a thread's
// states in the first chunk (0 past the last state), loaded a frame ahead.
template <int Sweeps>
struct EmissionRows {
    const double *first_row;
    int64_t stride;
    int position[Sweeps];

    __device__ const double *row(int64_t t) const { return first_row + t * stride; }
    __device__ void load(int64_t t, double y[Sweeps]) const {
        const double *r = row(t);
#pragma unroll
        for (int i = 0; i < Sweeps; ++i) y[i] = r[position[i]];
    }
};

template <typename Real, int Sweeps>
__device__ EmissionRows<Sweeps> emission_rows(const DeviceBatch<Real> &b, int64_t n, int states) {
    EmissionRows<Sweeps> rows{b.emission_row(n, 0), b.max_label_length + 1, {}};
#pragma unroll
    for (int i = 0; i < Sweeps; ++i) {
        const int s = i * int(blockDim.x) + int(threadIdx.x);
        rows.position[i] = s < states ? emission_position(s) : 0;
    }
    return rows;
}

// The rolling rows and their group exponents in shared memory, where the
// probability path always keeps them (forward_backward.cuh's layout),
// addressed as shared memory so that no access goes through a generic address.
struct SharedRows {
    double *values;      // two rows, max_states apart
    int32_t *exponents;  // two rows, max_groups apart
    int64_t max_states, max_groups;

    template <typename Real>
    __device__ explicit SharedRows(const DeviceBatch<Real> &b)
        : values(lattice_shared), exponents(shared_exponent_rows(b)), max_states(b.max_states),
          max_groups(b.max_groups) {}
    __device__ double *row(int64_t t) const { return values + (t & 1) * max_states; }
    __device__ int32_t *exponent_row(int64_t t) const { return exponents + (t & 1) * max_groups; }
};

// Scales the warp's group of new values u (in the group's unit) and stores
// them in the rolling row (unless nullptr) and the kept row, the group's
// exponent in both exponent rows; returns the scaled value.  Every lane of
// the warp calls it, for states s (its own, maybe past the last) of the group
// g < group count.
struct GroupStore {
    double *row, *kept;
    int32_t *exponents, *kept_exponents;

    __device__ double scale(double u, int s, int states, int g, int32_t unit) const {
        const uint32_t largest = warp_max_word(s < states ? probability::high_word(u) : 0u);
        const double value = probability::scaled(u, largest);
        if (s < states) {
            if (row) row[s] = value;
            kept[s] = value;
        }
        if (threadIdx.x % kWarpSize == 0) {
            const int32_t exponent = probability::group_exponent(largest, unit);
            exponents[g] = exponent;
            kept_exponents[g] = exponent;
        }
        return value;
    }
};

// alpha_t for every frame into b.alpha_row(n, t) and b.alpha_exponent_row(n, t);
// returns ln p(l|x), eq. (8), in every thread (NaN or -inf if the sequence is
// left to log space).
template <typename Real, int Sweeps>
__device__ double forward_probabilities(const LatticeBlock<Real, Sweeps> &block) {
    const DeviceBatch<Real> &b = *block.b;
    const SharedRows shared(b);
    const int states = int(block.states), groups = int(probability::group_count(states));
    const int threads = int(blockDim.x), chunk = Sweeps * threads;
    bool can_skip[Sweeps];  // the first chunk's, eq. (6)
#pragma unroll
    for (int i = 0; i < Sweeps; ++i) can_skip[i] = block.state(0, i) < states && block.can_skip_into(block.state(0, i));
    const EmissionRows<Sweeps> emissions = emission_rows<Real, Sweeps>(b, block.n, states);
    double next_y[Sweeps];
    emissions.load(0, next_y);
    double *const kept = b.alpha_row(block.n, 0);  // frame t's row is max_states * t further
    int32_t *const kept_exponents = b.alpha_exponent_row(block.n, 0);
    for (int64_t t = 0; t < block.frames; ++t) {
        double y[Sweeps];
#pragma unroll
        for (int i = 0; i < Sweeps; ++i) y[i] = next_y[i];
        if (t + 1 < block.frames) emissions.load(t + 1, next_y);  // in flight during frame t
        const double *prev = t > 0 ? shared.row(t - 1) : nullptr;
        const int32_t *prev_exponents = shared.exponent_row(t - 1);
        const GroupStore store{shared.row(t), kept + t * b.max_states, shared.exponent_row(t),
                               kept_exponents + t * b.max_groups};
        for (int first = 0; first < states; first += chunk) {
            double u[Sweeps];
            int32_t unit[Sweeps];
#pragma unroll
            for (int i = 0; i < Sweeps; ++i) {
                const int s = first + i * threads + int(threadIdx.x), g = probability::group_of(s);
                unit[i] = prev && g < groups ? probability::forward_unit(prev_exponents, g) : 0;
                u[i] = 0.0;
                if (s < states) {
                    const double emission = first == 0 ? y[i] : emissions.row(t)[emission_position(s)];
                    const bool skip = first == 0 ? can_skip[i] : block.can_skip_into(s);
                    const probability::UnitFactors f =
                        prev ? probability::forward_factors(prev_exponents, g) : probability::UnitFactors{};
                    u[i] = probability::alpha(prev, s, skip, emission, f);
                }
            }
#pragma unroll
            for (int i = 0; i < Sweeps; ++i) {
                const int s = first + i * threads + int(threadIdx.x), g = probability::group_of(s);
                if (g < groups) store.scale(u[i], s, states, g, unit[i]);  // the same g in the whole warp
            }
        }
        __syncthreads();  // frame t complete before frame t + 1 reads it
    }
    const int64_t last = block.frames - 1;
    return probability::log_likelihood(shared.row(last), shared.exponent_row(last), states);
}

// beta_t (ours, without the emission at t) for every frame, from the last one
// down, into b.beta_row(n, t) and b.beta_exponent_row(n, t).  The rolling rows
// hold beta_t(s) y^t_{l'_s} in the scale of frame t, for frame t - 1.
template <typename Real, int Sweeps>
__device__ void backward_probabilities(const LatticeBlock<Real, Sweeps> &block) {
    const DeviceBatch<Real> &b = *block.b;
    const SharedRows shared(b);
    const int states = int(block.states), groups = int(probability::group_count(states));
    const int threads = int(blockDim.x), chunk = Sweeps * threads;
    bool can_skip[Sweeps];  // from s to s + 2, in the first chunk, eq. (11)
#pragma unroll
    for (int i = 0; i < Sweeps; ++i) {
        const int64_t s = block.state(0, i);
        can_skip[i] = s + 2 < states && block.can_skip_into(s + 2);
    }
    const EmissionRows<Sweeps> emissions = emission_rows<Real, Sweeps>(b, block.n, states);
    double next_y[Sweeps];
    emissions.load(block.frames - 1, next_y);
    double *const kept = b.beta_row(block.n, 0);  // frame t's row is max_states * t further
    int32_t *const kept_exponents = b.beta_exponent_row(block.n, 0);
    for (int64_t t = block.frames - 1; t >= 0; --t) {
        double y[Sweeps];
#pragma unroll
        for (int i = 0; i < Sweeps; ++i) y[i] = next_y[i];
        if (t > 0) emissions.load(t - 1, next_y);  // in flight during frame t
        const bool last = t + 1 == block.frames;
        const double *next = last ? nullptr : shared.row(t + 1);
        const int32_t *next_exponents = shared.exponent_row(t + 1);
        double *cur = shared.row(t);  // beta y, written below
        const GroupStore store{nullptr, kept + t * b.max_states, shared.exponent_row(t),
                               kept_exponents + t * b.max_groups};
        for (int first = 0; first < states; first += chunk) {
            double u[Sweeps], emission[Sweeps];
            int32_t unit[Sweeps];
#pragma unroll
            for (int i = 0; i < Sweeps; ++i) {
                const int s = first + i * threads + int(threadIdx.x), g = probability::group_of(s);
                unit[i] = next && g < groups ? probability::backward_unit(next_exponents, g, groups) : 0;
                u[i] = 0.0;
                emission[i] = 0.0;
                if (s < states) {
                    emission[i] = first == 0 ? y[i] : emissions.row(t)[emission_position(s)];
                    const bool skip = first == 0 ? can_skip[i] : s + 2 < states && block.can_skip_into(s + 2);
                    const probability::UnitFactors f =
                        next ? probability::backward_factors(next_exponents, g, groups) : probability::UnitFactors{};
                    u[i] = probability::beta(next, s, states, skip, f);
                }
            }
#pragma unroll
            for (int i = 0; i < Sweeps; ++i) {
                const int s = first + i * threads + int(threadIdx.x), g = probability::group_of(s);
                if (g >= groups) continue;  // the same g in the whole warp
                const double value = store.scale(u[i], s, states, g, unit[i]);
                if (s < states) cur[s] = value * emission[i];
            }
        }
        __syncthreads();  // frame t complete before frame t - 1 reads it
    }
}

// Threads per probability block, at most, and the states each takes in a
// sweep (LatticeBlock's Sweeps): labels of up to 511 (1023 states) take one
// sweep of up to 1024 threads, longer ones two (labels of up to 1023 in one
// chunk).  More warps than the log-space kernel's 512 threads hide more of a
// frame's latency, and a sweep costs instructions even where it holds no
// state; 1024 threads leave 64 registers a thread, enough for two sweeps.
constexpr int kProbabilityMaxThreads = 1024;

inline int probability_sweeps(int64_t max_states) { return max_states <= kProbabilityMaxThreads ? 1 : 2; }

inline int probability_threads(int64_t max_states) {
    const int64_t warps = (max_states + kWarpSize - 1) / kWarpSize;
    return warps * kWarpSize < kProbabilityMaxThreads ? int(warps * kWarpSize) : kProbabilityMaxThreads;
}

// The probability-space lattice (lattice_block()), with a gradient, where the
// rows fit in shared memory.  A sequence whose likelihood comes out 0 or not
// finite is marked in scratch.untrusted (cleared by prepare_sequences), as the
// emission kernel marks others.
template <typename Real, int Sweeps>
__global__ void __launch_bounds__(kProbabilityMaxThreads, 1)
    probability_recursions(const __grid_constant__ DeviceBatch<Real> b) {
    lattice_block(
        b, [](int64_t) { return false; },
        [&](int64_t n) {
            const double log_p = forward_probabilities(LatticeBlock<Real, Sweeps>(b, n));
            if (!(log_p > -INFINITY && log_p < INFINITY) && threadIdx.x == 0) b.scratch.untrusted[n] = 1;
            return log_p;
        },
        [&](int64_t n) { backward_probabilities(LatticeBlock<Real, Sweeps>(b, n)); });
}

}  // namespace cuda
}  // namespace fastctc
