// The batch driver, workspace plan and C entry points of forced alignment.
//
// As for the loss: one template for float and double, sequences shared out to
// OpenMP threads largest lattice first, each aligned start to finish by one
// thread in its own scratch, so results do not depend on the thread count.
#include <cstdint>

#include "batch_layout.hpp"
#include "batch_order.hpp"
#include "fastctc/ctc.h"
#include "parallel.hpp"
#include "sequence.hpp"
#include "validate.hpp"
#include "viterbi.hpp"
#include "workspace.hpp"

namespace fastctc {
namespace {

using namespace FASTCTC_ISA;  // the kernels' headers, compiled at the baseline level

// Per thread: two rows of delta, the frame normalisers and the back-pointers.
struct AlignLayout {
    BatchLayout batch;
    size_t delta = 0, log_norm = 0, moves = 0;  // offsets within a thread's region
};

fastctc_status plan_align_workspace(const fastctc_batch &batch, int threads, AlignLayout *layout) {
    Extents e;
    if (!batch_extents(batch, &e)) return FASTCTC_STATUS_SIZE_OVERFLOW;
    ByteCounter region;
    layout->delta = region.reserve(2 * uint64_t(e.states), sizeof(double));
    layout->log_norm = region.reserve(uint64_t(e.frames), sizeof(double));
    layout->moves = region.reserve(uint64_t(e.lattice), sizeof(uint8_t));
    return plan_batch_layout(batch.batch_size, region, threads, &layout->batch);
}

template <typename Real>
fastctc_status align(const fastctc_batch *batch, const fastctc_options *options, const Real *inputs,
                     const int64_t input_strides[3], Real *path_scores, int32_t *frame_states,
                     Real *frame_log_probs, int64_t *token_starts, int64_t *token_ends, Real *token_scores,
                     void *workspace, size_t workspace_bytes) {
    fastctc_status status = validate_batch(batch, options, /*check_labels=*/true);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    const int64_t size = batch->batch_size, max_time = batch->max_time;
    if (size == 0) return FASTCTC_STATUS_SUCCESS;
    if (!input_strides || !path_scores || (max_time > 0 && (!inputs || !frame_states || !frame_log_probs)))
        return FASTCTC_STATUS_INVALID_VALUE;
    bool has_labels = false;
    for (int64_t n = 0; n < size; ++n) has_labels |= batch->label_lengths[n] > 0;
    if (has_labels && (!token_starts || !token_ends || !token_scores)) return FASTCTC_STATUS_INVALID_VALUE;

    const int threads = resolve_num_threads(options->num_threads, size);
    AlignLayout layout;
    status = plan_align_workspace(*batch, threads, &layout);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    if (!workspace || workspace_bytes < layout.batch.total_bytes) return FASTCTC_STATUS_WORKSPACE_TOO_SMALL;

    void *base = workspace_base(workspace);
    int64_t *order = at_offset<int64_t>(base, layout.batch.order);
    int64_t *label_offsets = at_offset<int64_t>(base, layout.batch.label_offsets);
    plan_batch(*batch, order, label_offsets);

    parallel_for_dynamic(threads, size, [&](int64_t i, int thread) {
        const int64_t n = order[i];
        void *region = layout.batch.region(base, thread);
        const ViterbiScratch scratch{at_offset<double>(region, layout.delta), at_offset<double>(region, layout.log_norm),
                                     at_offset<uint8_t>(region, layout.moves)};
        const Sequence<Real> seq = read_only_sequence(inputs, input_strides, n, batch->input_lengths[n],
                                                      batch->num_classes, ExtendedLabel(batch->labels + label_offsets[n], batch->label_lengths[n], options->blank),
                                                      options->log_probs != 0);
        const int64_t j = label_offsets[n];
        const AlignmentOut<Real> out{frame_states + n * max_time, frame_log_probs + n * max_time,
                                     token_starts + j, token_ends + j, token_scores + j};
        path_scores[n] = Real(forced_align_sequence(seq, scratch, out));
        for (int64_t t = seq.frames; t < max_time; ++t) {  // padding frames
            out.frame_states[t] = -1;
            out.frame_log_probs[t] = Real(0);
        }
    });
    return FASTCTC_STATUS_SUCCESS;
}

}  // namespace
}  // namespace fastctc

extern "C" {

fastctc_status fastctc_align_workspace_size(const fastctc_batch *batch, const fastctc_options *options, size_t *bytes) {
    using namespace fastctc;
    if (!bytes) return FASTCTC_STATUS_INVALID_VALUE;
    fastctc_status status = validate_batch(batch, options, /*check_labels=*/false);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    AlignLayout layout;
    status = plan_align_workspace(*batch, resolve_num_threads(options->num_threads, batch->batch_size), &layout);
    if (status == FASTCTC_STATUS_SUCCESS) *bytes = layout.batch.total_bytes;
    return status;
}

fastctc_status fastctc_forced_align_f32(const fastctc_batch *batch, const fastctc_options *options,
                                        const float *inputs, const int64_t input_strides[3], float *path_scores,
                                        int32_t *frame_states, float *frame_log_probs, int64_t *token_starts,
                                        int64_t *token_ends, float *token_scores, void *workspace,
                                        size_t workspace_bytes) {
    return fastctc::align(batch, options, inputs, input_strides, path_scores, frame_states, frame_log_probs,
                          token_starts, token_ends, token_scores, workspace, workspace_bytes);
}

fastctc_status fastctc_forced_align_f64(const fastctc_batch *batch, const fastctc_options *options,
                                        const double *inputs, const int64_t input_strides[3], double *path_scores,
                                        int32_t *frame_states, double *frame_log_probs, int64_t *token_starts,
                                        int64_t *token_ends, double *token_scores, void *workspace,
                                        size_t workspace_bytes) {
    return fastctc::align(batch, options, inputs, input_strides, path_scores, frame_states, frame_log_probs,
                          token_starts, token_ends, token_scores, workspace, workspace_bytes);
}

}  // extern "C"
