// The batch driver and the C entry points of the CTC loss.
//
// One template computes a whole batch for float and double; the extern "C"
// functions are thin instantiations.  Sequences are shared out to OpenMP
// threads most-work-first with a dynamic schedule; each sequence is computed
// start to finish by one thread with its own scratch, so the results do not
// depend on the thread count or the schedule.
#include <cmath>
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
fastctc_status compute(const fastctc_batch *batch, const fastctc_options *options, const Real *inputs,
                       const int64_t input_strides[3], Real *losses, Real *grad, const int64_t grad_strides[3],
                       const Real *grad_scale, void *workspace, size_t workspace_bytes) {
    fastctc_status status = validate_batch(batch, options, /*check_labels=*/true);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    const int64_t size = batch->batch_size;
    if (size == 0) return FASTCTC_STATUS_SUCCESS;
    if (!losses || !input_strides || (grad && !grad_strides)) return FASTCTC_STATUS_INVALID_VALUE;
    if (!inputs && batch->max_time > 0) return FASTCTC_STATUS_INVALID_VALUE;

    const int threads = resolve_num_threads(options->num_threads, size);
    WorkspaceLayout layout;
    status = plan_workspace(*batch, threads, grad != nullptr, &layout);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    if (!workspace || workspace_bytes < layout.total_bytes) return FASTCTC_STATUS_WORKSPACE_TOO_SMALL;

    void *base = workspace_base(workspace);
    int64_t *order = reinterpret_cast<int64_t *>(static_cast<char *>(base) + layout.order);
    int64_t *label_offsets = reinterpret_cast<int64_t *>(static_cast<char *>(base) + layout.label_offsets);
    plan_batch(*batch, order, label_offsets);

    parallel_for_dynamic(threads, size, [&](int64_t i, int thread) {
        const int64_t n = order[i];
        const Sequence<Real> seq{
            inputs ? inputs + n * input_strides[1] : nullptr,
            input_strides[0],
            input_strides[2],
            grad ? grad + n * grad_strides[1] : nullptr,
            grad ? grad_strides[0] : 0,
            grad ? grad_strides[2] : 0,
            batch->input_lengths[n],
            batch->max_time,
            batch->num_classes,
            ExtendedLabel(batch->labels + label_offsets[n], batch->label_lengths[n], options->blank),
            options->log_probs != 0,
            grad_scale ? double(grad_scale[n]) : 1.0,
        };
        double loss = sequence_loss(seq, thread_scratch(base, layout, thread));
        if (options->zero_infinity && loss == INFINITY) loss = 0.0;  // impossible alignment
        losses[n] = Real(loss);
    });
    return FASTCTC_STATUS_SUCCESS;
}

}  // namespace
}  // namespace fastctc

extern "C" {

fastctc_status fastctc_workspace_size(const fastctc_batch *batch, const fastctc_options *options, int with_grad,
                                      size_t *bytes) {
    using namespace fastctc;
    if (!bytes) return FASTCTC_STATUS_INVALID_VALUE;
    fastctc_status status = validate_batch(batch, options, /*check_labels=*/false);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    WorkspaceLayout layout;
    status = plan_workspace(*batch, resolve_num_threads(options->num_threads, batch->batch_size), with_grad != 0,
                            &layout);
    if (status == FASTCTC_STATUS_SUCCESS) *bytes = layout.total_bytes;
    return status;
}

fastctc_status fastctc_ctc_loss_f32(const fastctc_batch *batch, const fastctc_options *options, const float *inputs,
                                    const int64_t input_strides[3], float *losses, float *grad,
                                    const int64_t grad_strides[3], const float *grad_scale, void *workspace,
                                    size_t workspace_bytes) {
    return fastctc::compute(batch, options, inputs, input_strides, losses, grad, grad_strides, grad_scale, workspace,
                            workspace_bytes);
}

fastctc_status fastctc_ctc_loss_f64(const fastctc_batch *batch, const fastctc_options *options, const double *inputs,
                                    const int64_t input_strides[3], double *losses, double *grad,
                                    const int64_t grad_strides[3], const double *grad_scale, void *workspace,
                                    size_t workspace_bytes) {
    return fastctc::compute(batch, options, inputs, input_strides, losses, grad, grad_strides, grad_scale, workspace,
                            workspace_bytes);
}

}  // extern "C"
