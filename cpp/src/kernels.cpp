// The per-sequence work of a batch, compiled once per instruction-set level
// (see isa.hpp): each sequence takes the probability-space path (sequences
// with short labels in groups: grouped_lattice.hpp), and the log-space path for
// whatever the former cannot vouch for.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "forward_backward.hpp"
#include "grouped_lattice.hpp"
#include "ieee_arithmetic.hpp"
#include "isa.hpp"
#include "kernel_table.hpp"
#include "log_space.hpp"
#include "pack.hpp"
#include "parallel.hpp"
#include "probability_space.hpp"
#include "shared_sequence.hpp"

namespace fastctc::FASTCTC_ISA {
namespace {

template <typename Real>
Sequence<Real> sequence_of(const BatchJob<Real> &job, int64_t n) {
    const fastctc_batch &batch = *job.batch;
    return Sequence<Real>{
        job.inputs ? job.inputs + n * job.input_strides[1] : nullptr,
        job.input_strides[0],
        job.input_strides[2],
        job.grad ? job.grad + n * job.grad_strides[1] : nullptr,
        job.grad ? job.grad_strides[0] : 0,
        job.grad ? job.grad_strides[2] : 0,
        batch.input_lengths[n],
        batch.num_classes,
        ExtendedLabel(batch.labels + job.label_offsets[n], batch.label_lengths[n], job.options->blank),
        job.options->log_probs != 0,
        job.grad_scale ? double(job.grad_scale[n]) : 1.0,
        job.posteriors,
        job.state_occupancy ? job.state_occupancy + n * job.state_strides[1] : nullptr,
        job.state_occupancy ? job.state_strides[0] : 0,
        job.state_occupancy ? job.state_strides[2] : 0,
        job.num_states,
    };
}

// `count` rows of `width` elements (row r at rows + r * row_stride, element c
// at c * stride): 0, as one run where they lie end to end.  Returns whether it
// streamed (write_streamed_zeros()).
template <typename Real>
bool zero_rows(Real *rows, int64_t count, int64_t width, int64_t row_stride, int64_t stride) {
    if (stride == 1 && row_stride == width) return write_streamed_zeros(count * width, rows, 1);
    bool streamed = false;
    for (int64_t r = 0; r < count; ++r) streamed = write_streamed_zeros(width, rows + r * row_stride, stride) || streamed;
    return streamed;
}

// Gradient (or occupancy) rows [first, last) of a sequence: 0.
template <typename Real>
void zero_grad_rows(const Sequence<Real> &seq, int64_t first, int64_t last) {
    bool streamed = zero_rows(seq.grad_row(first), last - first, seq.num_classes, seq.grad_time_stride,
                              seq.grad_class_stride);
    if (seq.state_occupancy)
        streamed = zero_rows(seq.state_row(first), last - first, seq.num_states, seq.state_time_stride,
                             seq.state_stride) ||
                   streamed;
    if (streamed) finish_streamed_stores();  // no fence where only short rows were zeroed
}

// The padding of frames [first, last): the gradient (or occupancy) rows of the
// sequences whose input ended before each frame, 0.  Frame by frame across the
// batch rather than sequence by sequence: a frame's rows of neighbouring
// sequences lie side by side in a (T, N, C) batch, so each run of them is one
// write, where one sequence's padding rows are a row each, N rows apart.
template <typename Real>
void zero_padding(const BatchJob<Real> &job, int64_t first, int64_t last) {
    const fastctc_batch &batch = *job.batch;
    const int64_t *g = job.grad_strides, *s = job.state_strides;
    bool streamed = false;
    for (int64_t t = first; t < last; ++t) {
        for (int64_t n = 0; n < batch.batch_size;) {
            if (batch.input_lengths[n] > t) {
                ++n;
                continue;
            }
            int64_t end = n + 1;  // sequences [n, end) have ended by frame t
            while (end < batch.batch_size && batch.input_lengths[end] <= t) ++end;
            streamed = zero_rows(job.grad + t * g[0] + n * g[1], end - n, batch.num_classes, g[1], g[2]) || streamed;
            if (job.state_occupancy)
                streamed = zero_rows(job.state_occupancy + t * s[0] + n * s[1], end - n, job.num_states, s[1], s[2]) ||
                           streamed;
            n = end;
        }
    }
    if (streamed) finish_streamed_stores();
}

// Frames of padding zeroed by one unit of work (run_batch()).
inline constexpr int64_t kPaddingFrames = 8;

// The loss of one sequence and its gradient rows [0, T_n) (run_batch() zeroes
// the padding).  run(space) computes the lattice in a number system
// (ProbabilitySpace{} or LogSpace{}): the fast one first, the exact one when the
// fast one cannot vouch for its result.  Where both paths vouch for theirs, the
// loss alone and the loss with the gradient are the same bits; otherwise they
// agree to rounding.
template <typename Real, typename Run>
double sequence_loss(const Sequence<Real> &seq, ThreadScratch *scratch, Run run) {
    if (seq.frames < seq.label.min_frames()) {  // too few frames for the label and its blanks
        if (seq.grad) zero_grad_rows(seq, 0, seq.frames);
        return INFINITY;
    }
    if (seq.frames == 0) return 0.0;  // no frames, no labels: the empty path, probability 1
    if (seq.grad)
        build_label_slots(seq.label.labels(), seq.label.label_length(), seq.label.blank(), 1, &scratch->lattice.slots);

    const LatticeResult fast = run(ProbabilitySpace{});
    if (fast.trusted(seq.grad != nullptr)) return fast.loss;
    const LatticeResult exact = run(LogSpace{});
    if (seq.grad && exact.loss == INFINITY) zero_grad_rows(seq, 0, seq.frames);  // probability 0: -inf inputs
    return exact.loss;
}

// What a sequence's loss becomes in the output: its negation for the
// posteriors (the log-likelihood), else 0 instead of +inf with zero_infinity.
template <typename Real>
Real finish_loss(const BatchJob<Real> &job, double loss) {
    if (job.posteriors) return Real(-loss);
    return Real((job.options->zero_infinity && loss == INFINITY) ? 0.0 : loss);  // impossible alignment
}

// sequence_loss() of a sequence on one thread.
template <typename Real>
double single_sequence_loss(const Sequence<Real> &seq, ThreadScratch *scratch) {
    return sequence_loss(seq, scratch, [&](auto space) {
        using Space = decltype(space);
        return seq.grad ? lattice_loss_and_grad<Space>(seq, scratch->lattice, scratch->buffers)
                        : lattice_loss<Space>(seq, scratch->lattice, scratch->buffers);
    });
}

// The sequences of a group's members, in order.
template <typename Real, size_t... w>
std::array<Sequence<Real>, sizeof...(w)> group_sequences(const BatchJob<Real> &job, const int64_t *members,
                                                         std::index_sequence<w...>) {
    return {sequence_of(job, members[w])...};
}

// The losses of a group of W sequences (members: their indices), computed side
// by side; a sequence whose lane cannot vouch for its result is computed again
// on its own, with the same bits where that run vouches for its first try.
template <int W, typename Real>
void group_losses(const BatchJob<Real> &job, const int64_t *members, ThreadScratch *scratch) {
    const std::array<Sequence<Real>, W> seqs = group_sequences(job, members, std::make_index_sequence<W>());
    LatticeResult results[W];
    lattice_group<W>(seqs.data(), scratch->group, scratch->buffers, results);
    for (int w = 0; w < W; ++w) {
        const bool vouched = results[w].trusted(seqs[w].grad != nullptr);
        const double loss = vouched ? results[w].loss : single_sequence_loss(seqs[w], scratch);
        job.losses[members[w]] = finish_loss(job, loss);
    }
}

// The batch's padding (zero_padding(), kPaddingFrames frames a unit from the
// first frame past the shortest input), then its sequences, most work first.
// (Padding last, filling the threads' idle ends, took 2% more time on T=250 N=32
// C=1024 var at two threads, whose padding rows are streamed: BENCHMARKS.md.)
template <typename Real>
void run_batch(const BatchJob<Real> &job) {
    const IeeeArithmetic ieee;  // the calling thread's part (parallel regions set their own)
    const WorkspaceLayout &layout = *job.layout;
    const fastctc_batch &batch = *job.batch;
    int64_t padded_from = batch.max_time;
    if (job.grad)
        for (int64_t n = 0; n < batch.batch_size; ++n)
            if (batch.input_lengths[n] < padded_from) padded_from = batch.input_lengths[n];
    const int64_t padding_units = (batch.max_time - padded_from + kPaddingFrames - 1) / kPaddingFrames;
    const auto zero_padding_unit = [&](int64_t unit) {
        const int64_t first = padded_from + unit * kPaddingFrames;
        zero_padding(job, first, first + kPaddingFrames < batch.max_time ? first + kPaddingFrames : batch.max_time);
    };
    if (layout.shared_sequence) {  // one sequence: all threads work on it
        for (int64_t unit = 0; unit < padding_units; ++unit) zero_padding_unit(unit);
        const Sequence<Real> seq = sequence_of(job, 0);
        ThreadScratch scratch = thread_scratch(job.base, layout, 0);
        const double loss = sequence_loss(seq, &scratch, [&](auto space) {
            return lattice_shared_sequence<decltype(space)>(seq, scratch.lattice, layout.num_threads, [&](int thread) {
                return thread_scratch(job.base, layout, thread).buffers;
            });
        });
        job.losses[0] = finish_loss(job, loss);
        return;
    }
    parallel_for_dynamic(layout.num_threads, job.units + padding_units, [&](int64_t unit, int thread) {
        if (unit < padding_units) return zero_padding_unit(unit);
        const int64_t start = job.unit_starts[unit - padding_units], n = job.order[start];
        ThreadScratch scratch = thread_scratch(job.base, layout, thread);
        if (start < job.wide_grouped)
            group_losses<kWideGroup>(job, job.order + start, &scratch);
        else if (start < job.grouped)
            group_losses<kGroupSize>(job, job.order + start, &scratch);
        else
            job.losses[n] = finish_loss(job, single_sequence_loss(sequence_of(job, n), &scratch));
    });
}

}  // namespace
}  // namespace fastctc::FASTCTC_ISA

#define FASTCTC_CONCATENATE(a, b) a##b
#define FASTCTC_TABLE_NAME(level) FASTCTC_CONCATENATE(kernels_, level)
#define FASTCTC_STRINGIFY(level) FASTCTC_STRINGIFY_EXPANDED(level)
#define FASTCTC_STRINGIFY_EXPANDED(level) #level

const fastctc::KernelTable fastctc::FASTCTC_TABLE_NAME(FASTCTC_ISA) = {
    FASTCTC_STRINGIFY(FASTCTC_ISA),
    fastctc::FASTCTC_ISA::kEightLanesInOneVector,
    &fastctc::FASTCTC_ISA::run_batch<float>,
    &fastctc::FASTCTC_ISA::run_batch<double>,
};
