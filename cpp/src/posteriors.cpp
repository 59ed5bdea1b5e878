// The batch driver and C entry points of the CTC posteriors.
//
// The loss's forward-backward (forward_backward.hpp) with Sequence::occupancy
// set: its backward pass writes each state's occupancy gamma_t(s) and each
// class's occupancy(t, k) = sum_{s : l'_s = k} gamma_t(s) (Graves et al. 2006,
// eqs. (14)-(16)) where the loss writes its gradient.  Same workspace, same
// schedule, so results do not depend on the thread count.
#include <algorithm>
#include <cstdint>

#include "batch_order.hpp"
#include "fastctc/ctc.h"
#include "forward_backward.hpp"
#include "parallel.hpp"
#include "validate.hpp"
#include "workspace.hpp"

namespace fastctc {
namespace {

template <typename Real>
fastctc_status posteriors(const fastctc_batch *batch, const fastctc_options *options, const Real *inputs,
                          const int64_t input_strides[3], Real *log_likelihoods, Real *class_occupancy,
                          const int64_t class_strides[3], Real *state_occupancy, const int64_t state_strides[3],
                          void *workspace, size_t workspace_bytes) {
    fastctc_status status = validate_batch(batch, options, /*check_labels=*/true);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    const int64_t size = batch->batch_size;
    if (size == 0) return FASTCTC_STATUS_SUCCESS;
    if (!log_likelihoods || !input_strides || !class_strides || (state_occupancy && !state_strides))
        return FASTCTC_STATUS_INVALID_VALUE;
    if (batch->max_time > 0 && (!inputs || !class_occupancy)) return FASTCTC_STATUS_INVALID_VALUE;

    const int threads = resolve_num_threads(options->num_threads, size);
    WorkspaceLayout layout;
    status = plan_workspace(*batch, threads, /*with_grad=*/true, &layout);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    if (!workspace || workspace_bytes < layout.total_bytes) return FASTCTC_STATUS_WORKSPACE_TOO_SMALL;

    void *base = workspace_base(workspace);
    int64_t *order = at_offset<int64_t>(base, layout.order);
    int64_t *label_offsets = at_offset<int64_t>(base, layout.label_offsets);
    plan_batch(*batch, order, label_offsets);
    const int64_t num_states = 2 * *std::max_element(batch->label_lengths, batch->label_lengths + size) + 1;

    parallel_for_dynamic(threads, size, [&](int64_t i, int thread) {
        const int64_t n = order[i];
        Sequence<Real> seq{
            inputs ? inputs + n * input_strides[1] : nullptr,
            input_strides[0],
            input_strides[2],
            class_occupancy ? class_occupancy + n * class_strides[1] : nullptr,
            class_strides[0],
            class_strides[2],
            batch->input_lengths[n],
            batch->max_time,
            batch->num_classes,
            ExtendedLabel(batch->labels + label_offsets[n], batch->label_lengths[n], options->blank),
            options->log_probs != 0,
            1.0,
        };
        seq.occupancy = true;
        if (state_occupancy) {
            seq.state_occupancy = state_occupancy + n * state_strides[1];
            seq.state_time_stride = state_strides[0];
            seq.state_stride = state_strides[2];
            seq.num_states = num_states;
        }
        // ln p(l|x) = -loss; -inf when no alignment is possible.
        log_likelihoods[n] = Real(-sequence_loss(seq, thread_scratch(base, layout, thread)));
    });
    return FASTCTC_STATUS_SUCCESS;
}

}  // namespace
}  // namespace fastctc

extern "C" {

fastctc_status fastctc_ctc_posteriors_f32(const fastctc_batch *batch, const fastctc_options *options,
                                          const float *inputs, const int64_t input_strides[3],
                                          float *log_likelihoods, float *class_occupancy,
                                          const int64_t class_strides[3], float *state_occupancy,
                                          const int64_t state_strides[3], void *workspace, size_t workspace_bytes) {
    return fastctc::posteriors(batch, options, inputs, input_strides, log_likelihoods, class_occupancy,
                               class_strides, state_occupancy, state_strides, workspace, workspace_bytes);
}

fastctc_status fastctc_ctc_posteriors_f64(const fastctc_batch *batch, const fastctc_options *options,
                                          const double *inputs, const int64_t input_strides[3],
                                          double *log_likelihoods, double *class_occupancy,
                                          const int64_t class_strides[3], double *state_occupancy,
                                          const int64_t state_strides[3], void *workspace, size_t workspace_bytes) {
    return fastctc::posteriors(batch, options, inputs, input_strides, log_likelihoods, class_occupancy,
                               class_strides, state_occupancy, state_strides, workspace, workspace_bytes);
}

}  // extern "C"
