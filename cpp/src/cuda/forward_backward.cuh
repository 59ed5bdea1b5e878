// The forward and backward recursions of the CTC lattice on the GPU.
//
// Graves et al. 2006, Section 4.1, with the per-state steps of lattice.hpp.
// One block per sequence and direction: blocks [0, N) run the forward
// recursion of sequence blockIdx.x and, with a gradient, blocks [N, 2N) run
// the backward recursion of sequence blockIdx.x - N at the same time, since
// neither needs the other (the gradient kernel combines their rows).  A
// block's threads share the extended label's states: thread i takes states
// i, i + blockDim.x, ... (no cap on the label length), and one barrier per
// frame separates frame t from the next, because state s of frame t reads
// states s, s - 1 and s - 2 of frame t - 1 (eqs. (6)-(7); s + 1 and s + 2
// going backward, eqs. (10)-(11)).
//
// A frame is a short chain of dependent steps per state, so the recursions
// are bound by latency, not by throughput.  Hence: the two rolling rows and
// the classes l'_s live in shared memory when they fit (20 bytes a state; the
// workspace and the label otherwise), each thread keeps what stays the same
// about its first kSweeps states in registers and loads their inputs one
// frame ahead, and every load of a sweep is issued before its arithmetic.
//
// Numerical twist: log space in double precision, as in forward_backward.hpp,
// whatever the input type.  Each state is computed by one thread with one
// formula, so the results do not depend on the block size.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "device_batch.cuh"
#include "lattice.hpp"
#include "probability_lattice.hpp"
#include "warp.cuh"

namespace fastctc {
namespace cuda {

// Threads per lattice block, at most: 512 leaves each thread the registers
// for kSweeps states (about 110; 1024 threads would cap it at 64, and spill).
constexpr int kLatticeMaxThreads = 512;

// States a thread of this kernel works on at once, held in registers: s = i *
// blockDim.x + threadIdx.x for i < kSweeps (LatticeBlock's Sweeps), whose
// inputs are loaded a frame ahead; labels of up to 1023 (2048 states) in one
// chunk.  Longer labels are taken kSweeps * blockDim.x states at a time.
constexpr int kSweeps = 4;

// Threads per block for labels of up to max_states states: one per state, in
// whole warps, up to kLatticeMaxThreads.
inline int lattice_threads(int64_t max_states) {
    const int64_t warps = (max_states + kWarpSize - 1) / kWarpSize;
    return warps * kWarpSize < kLatticeMaxThreads ? int(warps * kWarpSize) : kLatticeMaxThreads;
}

// Dynamic shared memory a lattice block needs to keep its two rolling rows
// (doubles), their group exponents (int32, probability_recursions.cuh) and the
// class of each state (int32) there.
inline size_t lattice_shared_bytes(int64_t max_states) {
    return size_t(max_states) * (2 * sizeof(double) + sizeof(int32_t)) +
           size_t(lattice::probability::group_count(max_states)) * 2 * sizeof(int32_t);
}

// Static shared memory of a lattice block: each warp's largest value of the
// last two rows (LatticeBlock::maxima).
constexpr size_t kLatticeStaticShared = 2 * (kLatticeMaxThreads / kWarpSize) * sizeof(double);

extern __shared__ double lattice_shared[];

// The layout of lattice_shared where a block's rows fit (lattice_shared_bytes()):
// the two rolling rows, their group exponents (probability space only), and
// the class of each state.
template <typename Real>
__device__ int32_t *shared_exponent_rows(const DeviceBatch<Real> &b) {
    return reinterpret_cast<int32_t *>(lattice_shared + 2 * b.max_states);
}
template <typename Real>
__device__ int32_t *shared_classes(const DeviceBatch<Real> &b) {
    return shared_exponent_rows(b) + 2 * b.max_groups;
}

// One block's view of its sequence: where its rolling rows and the classes
// l'_s are, the emissions ln y^t_{l'_s}, and each row's largest value.
//
// Every row is kept shifted by a constant of its frame so that its largest
// value is about 0: frame t subtracts the largest value of the row before it.
// Unshifted, ln alpha and ln beta grow to |ln p(l|x)| (thousands on long or
// peaked inputs) and carry rounding errors of order eps |ln p|; shifted, of
// order eps.  The forward pass adds the shifts back into ln p(l|x); the kept
// rows stay shifted, which the gradient kernel's per-frame normalisation
// cancels (lattice.hpp).
template <typename Real, int Sweeps>
struct LatticeBlock {
    static constexpr int kMaxWarps = kLatticeMaxThreads / kWarpSize;

    const DeviceBatch<Real> *b;
    int64_t n, frames, states;
    ExtendedLabel label;
    double *rows;            // the two rolling rows, b->max_states apart
    const int32_t *classes;  // nullptr: read l'_s from the label
    double *maxima;          // [2][kMaxWarps]: each warp's largest value of a row
    const Real *sequence_inputs;  // b->input_row(0, n)
    const double *log_norms;      // b->log_norm(0, n) onwards, or nullptr for log-scores

    __device__ LatticeBlock(const DeviceBatch<Real> &batch, int64_t sequence)
        : b(&batch), n(sequence), frames(batch.input_lengths[sequence]), label(batch.label(sequence)),
          classes(nullptr),
          sequence_inputs(batch.input_row(0, sequence)),
          log_norms(batch.log_probs ? nullptr : batch.scratch.log_norm + sequence * batch.max_time) {
        __shared__ double warp_maxima[kLatticeStaticShared / sizeof(double)];
        maxima = warp_maxima;
        states = label.size();
        if (batch.lattice_in_shared) {
            rows = lattice_shared;
            int32_t *in_shared = shared_classes(batch);
            for (int64_t s = threadIdx.x; s < states; s += blockDim.x) in_shared[s] = label[s];
            classes = in_shared;
            __syncthreads();  // every class is in place before any thread reads its neighbours'
        } else {
            rows = batch.rolling_rows(blockIdx.x);
        }
    }

    // The rolling row that frame t writes (and frame t + 2 writes again).
    __device__ double *row(int64_t t) const { return rows + (t & 1) * b->max_states; }

    __device__ int32_t klass(int64_t s) const { return classes ? classes[s] : label[s]; }

    // ExtendedLabel::can_skip_into(s), eq. (6): l'_s is a label other than l'_{s-2}.
    __device__ bool can_skip_into(int64_t s) const { return (s & 1) && s >= 3 && klass(s) != klass(s - 2); }

    // ln y^t_{l'_s}: the log-softmax of the logits, or the log-score as given.
    __device__ double emission(int64_t t, int64_t s) const {
        return double(b->input_row(t, n)[int64_t(klass(s)) * b->input_strides[2]]) - b->log_norm(t, n);
    }

    // The state of sweep i of the chunk that starts at `first`.
    __device__ int64_t state(int64_t first, int i) const { return first + int64_t(i) * blockDim.x + threadIdx.x; }

    // The class offsets l'_s * (class stride) of the thread's states in the
    // first chunk, the same in every frame (0 past the last state).
    __device__ void first_chunk_offsets(int64_t offsets[Sweeps]) const {
#pragma unroll
        for (int i = 0; i < Sweeps; ++i)
            offsets[i] = state(0, i) < states ? int64_t(klass(state(0, i))) * b->input_strides[2] : 0;
    }

    // Frame t's inputs for the thread's states in the first chunk, loaded a
    // frame ahead: they become emissions only where used, so no thread waits
    // for these loads before the frame that needs them.
    struct Prefetched {
        Real value[Sweeps];  // u^t_{l'_s}, or ln y^t_{l'_s} as given
        double log_norm;
        __device__ double emission(int i) const { return double(value[i]) - log_norm; }
    };

    __device__ void prefetch(int64_t t, const int64_t offsets[Sweeps], Prefetched *inputs) const {
        const Real *input = sequence_inputs + t * b->input_strides[0];
#pragma unroll
        for (int i = 0; i < Sweeps; ++i) inputs->value[i] = state(0, i) < states ? input[offsets[i]] : Real(0);
        inputs->log_norm = log_norms ? log_norms[t] : 0.0;
    }

    __device__ int64_t chunk() const { return int64_t(Sweeps) * blockDim.x; }

    // Records the largest of the thread's values in the row of frame t; every
    // thread calls it before the frame's barrier.  NaN is never the largest.
    __device__ void publish_largest(int64_t t, double thread_largest) const {
        const double largest = warp_max(thread_largest);
        if (threadIdx.x % kWarpSize == 0) maxima[(t & 1) * kMaxWarps + threadIdx.x / kWarpSize] = largest;
    }

    // After the barrier: the shift for the row that reads row t, its largest
    // value, or 0 when that is not finite (a row of zero probabilities, or +inf).
    __device__ double shift_after(int64_t t) const {
        double largest = -INFINITY;
        for (unsigned w = 0; w < blockDim.x / kWarpSize; ++w) {
            const double v = maxima[(t & 1) * kMaxWarps + w];
            if (v > largest) largest = v;
        }
        return isfinite(largest) ? largest : 0.0;
    }
};

// ln alpha for every frame, shifted (see LatticeBlock), into b.alpha_row(n, t)
// with a gradient; returns ln p(l|x), eq. (8), in every thread.
template <typename Real>
__device__ double forward_recursion(const LatticeBlock<Real, kSweeps> &block, bool keep_rows) {
    const DeviceBatch<Real> &b = *block.b;
    int64_t offsets[kSweeps];
    bool can_skip[kSweeps];  // the first chunk's, eq. (6)
    block.first_chunk_offsets(offsets);
#pragma unroll
    for (int i = 0; i < kSweeps; ++i) can_skip[i] = block.state(0, i) < block.states && block.can_skip_into(block.state(0, i));
    typename LatticeBlock<Real, kSweeps>::Prefetched next_inputs;
    block.prefetch(0, offsets, &next_inputs);
    double total_shift = 0.0;
    for (int64_t t = 0; t < block.frames; ++t) {
        const typename LatticeBlock<Real, kSweeps>::Prefetched inputs = next_inputs;
        if (t + 1 < block.frames) block.prefetch(t + 1, offsets, &next_inputs);  // in flight during frame t
        const double *prev = t > 0 ? block.row(t - 1) : nullptr;
        const double shift = t > 0 ? block.shift_after(t - 1) : 0.0;
        total_shift += shift;
        double *cur = block.row(t);
        double *kept = keep_rows ? b.alpha_row(block.n, t) : nullptr;
        double thread_largest = -INFINITY;
        for (int64_t first = 0; first < block.states; first += block.chunk()) {
            double value[kSweeps];
#pragma unroll
            for (int i = 0; i < kSweeps; ++i) {
                const int64_t s = block.state(first, i);
                if (s < block.states) {
                    const double emission = first == 0 ? inputs.emission(i) : block.emission(t, s);
                    const bool skip = first == 0 ? can_skip[i] : block.can_skip_into(s);
                    value[i] = lattice::alpha(prev, s, skip, emission) - shift;
                }
            }
#pragma unroll
            for (int i = 0; i < kSweeps; ++i) {
                const int64_t s = block.state(first, i);
                if (s < block.states) {
                    cur[s] = value[i];
                    if (kept) kept[s] = value[i];
                    if (value[i] > thread_largest) thread_largest = value[i];
                }
            }
        }
        block.publish_largest(t, thread_largest);
        __syncthreads();  // frame t complete before frame t + 1 reads it
    }
    return total_shift + lattice::log_likelihood(block.row(block.frames - 1), block.states);
}

// ln beta (ours, without the emission at t) for every frame, from the last
// one down, shifted (see LatticeBlock), into b.beta_row(n, t).  The rolling
// rows hold ln(beta_t(s) y^t_{l'_s}), shifted the same, for frame t - 1.
template <typename Real>
__device__ void backward_recursion(const LatticeBlock<Real, kSweeps> &block) {
    const DeviceBatch<Real> &b = *block.b;
    int64_t offsets[kSweeps];
    bool can_skip[kSweeps];  // from s to s + 2, in the first chunk, eq. (11)
    block.first_chunk_offsets(offsets);
#pragma unroll
    for (int i = 0; i < kSweeps; ++i) {
        const int64_t s = block.state(0, i);
        can_skip[i] = s + 2 < block.states && block.can_skip_into(s + 2);
    }
    typename LatticeBlock<Real, kSweeps>::Prefetched next_inputs;
    block.prefetch(block.frames - 1, offsets, &next_inputs);
    for (int64_t t = block.frames - 1; t >= 0; --t) {
        const typename LatticeBlock<Real, kSweeps>::Prefetched inputs = next_inputs;
        if (t > 0) block.prefetch(t - 1, offsets, &next_inputs);  // in flight during frame t
        const bool last = t + 1 == block.frames;
        const double *next = last ? nullptr : block.row(t + 1);
        const double shift = last ? 0.0 : block.shift_after(t + 1);
        double *cur = block.row(t);
        double *kept = b.beta_row(block.n, t);
        double thread_largest = -INFINITY;
        for (int64_t first = 0; first < block.states; first += block.chunk()) {
            double log_beta[kSweeps], emission[kSweeps];
#pragma unroll
            for (int i = 0; i < kSweeps; ++i) {
                const int64_t s = block.state(first, i);
                if (s < block.states) {
                    emission[i] = first == 0 ? inputs.emission(i) : block.emission(t, s);
                    const bool skip =
                        first == 0 ? can_skip[i] : s + 2 < block.states && block.can_skip_into(s + 2);
                    log_beta[i] = lattice::beta(next, s, block.states, skip) - shift;
                }
            }
#pragma unroll
            for (int i = 0; i < kSweeps; ++i) {
                const int64_t s = block.state(first, i);
                if (s < block.states) {
                    const double weighted = log_beta[i] + emission[i];
                    kept[s] = log_beta[i];
                    cur[s] = weighted;
                    if (weighted > thread_largest) thread_largest = weighted;
                }
            }
        }
        block.publish_largest(t, thread_largest);
        __syncthreads();  // frame t complete before frame t - 1 reads it
    }
}

// What the lattice kernels of both number systems share.  Block blockIdx.x
// runs the forward recursion of sequence blockIdx.x (blocks [0, N)) or, with
// a gradient, the backward recursion of sequence blockIdx.x - N (blocks
// [N, 2N)); the two need nothing from each other.  Sequences skip(n) names
// are left alone; impossible ones (too few frames, found by
// prepare_sequences) and those without frames read no input.  forward(n)
// returns ln p(l|x), eq. (8), in every thread, and the forward blocks write
// it and the losses; backward(n) fills the backward rows.
template <typename Real, typename Skip, typename Forward, typename Backward>
__device__ void lattice_block(const DeviceBatch<Real> &b, Skip skip, Forward forward, Backward backward) {
    const bool forward_block = blockIdx.x < b.batch_size;
    const int64_t n = forward_block ? int64_t(blockIdx.x) : int64_t(blockIdx.x) - b.batch_size;
    const bool first_thread = threadIdx.x == 0;
    if (!*b.scratch.batch_valid) {  // invalid device lengths or labels: NaN throughout
        if (forward_block && first_thread) b.losses[n] = Real(NAN);
        return;
    }
    if (skip(n)) return;
    const bool impossible = b.scratch.impossible[n] != 0;
    if (!forward_block) {
        if (!impossible && b.input_lengths[n] > 0) backward(n);
        return;
    }
    double log_p = 0.0;  // frames == 0 with an empty label: the empty path, probability 1
    if (impossible)
        log_p = -INFINITY;  // no alignment exists
    else if (b.input_lengths[n] > 0)
        log_p = forward(n);
    if (first_thread) {
        b.scratch.log_p[n] = log_p;
        double loss = -log_p;
        if (b.zero_infinity && loss == INFINITY) loss = 0.0;  // impossible alignment
        b.losses[n] = Real(loss);
    }
}

// The log-space lattice (lattice_block()).  With only_untrusted, after the
// probability path, blocks of the sequences it vouched for return at once.
template <typename Real>
__global__ void __launch_bounds__(kLatticeMaxThreads, 1)
    lattice_recursions(const __grid_constant__ DeviceBatch<Real> b, bool only_untrusted) {
    lattice_block(
        b, [&](int64_t n) { return only_untrusted && !b.scratch.untrusted[n] && !b.scratch.unvouched[n]; },
        [&](int64_t n) { return forward_recursion(LatticeBlock<Real, kSweeps>(b, n), b.grad != nullptr); },
        [&](int64_t n) { backward_recursion(LatticeBlock<Real, kSweeps>(b, n)); });
}

}  // namespace cuda
}  // namespace fastctc
