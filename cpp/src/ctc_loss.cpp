// The C entry points of the CTC loss: validation, workspace planning and the
// order of work, then the kernels for this CPU (kernels.cpp via dispatch.cpp).
//
// Sequences are shared out to OpenMP threads most-work-first with a dynamic
// schedule; each sequence is computed start to finish by one thread, or, when
// the batch is a single sequence, by all threads in a fixed split.  Either way
// the results do not depend on the thread count or the schedule.
#include <algorithm>
#include <cstdint>

#include "fastctc/ctc.h"
#include "kernel_table.hpp"
#include "parallel.hpp"
#include "validate.hpp"
#include "workspace.hpp"

namespace fastctc {
namespace {

// Fills order with 0..N-1 sorted by decreasing lattice size T_n x |l'_n|
// (ties by index, so the order is a pure function of the batch), and
// label_offsets with the start of each label in the concatenated labels.
void plan_batch(const fastctc_batch &batch, int64_t *order, int64_t *label_offsets) {
    const int64_t size = batch.batch_size;
    int64_t offset = 0;
    for (int64_t n = 0; n < size; ++n) {
        order[n] = n;
        label_offsets[n] = offset;
        offset += batch.label_lengths[n];
    }
    auto work = [&](int64_t n) { return batch.input_lengths[n] * (2 * batch.label_lengths[n] + 1); };
    std::sort(order, order + size, [&](int64_t a, int64_t b) {
        return work(a) != work(b) ? work(a) > work(b) : a < b;
    });
}

template <typename Real>
fastctc_status compute(const fastctc_batch *batch, const fastctc_options *options, const Real *inputs,
                       const int64_t input_strides[3], Real *losses, Real *grad, const int64_t grad_strides[3],
                       const Real *grad_scale, void *workspace, size_t workspace_bytes,
                       void (*const KernelTable::*run)(const BatchJob<Real> &)) {
    fastctc_status status = validate_batch(batch, options, /*check_labels=*/true);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    const int64_t size = batch->batch_size;
    if (size == 0) return FASTCTC_STATUS_SUCCESS;
    if (!losses || !input_strides || (grad && !grad_strides)) return FASTCTC_STATUS_INVALID_VALUE;
    if (!inputs && batch->max_time > 0) return FASTCTC_STATUS_INVALID_VALUE;

    WorkspaceLayout layout;
    status = plan_workspace(*batch, baseline::resolve_num_threads(options->num_threads, size), grad != nullptr,
                            &layout);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    if (!workspace || workspace_bytes < layout.total_bytes) return FASTCTC_STATUS_WORKSPACE_TOO_SMALL;

    void *base = workspace_base(workspace);
    int64_t *order = reinterpret_cast<int64_t *>(static_cast<char *>(base) + layout.order);
    int64_t *label_offsets = reinterpret_cast<int64_t *>(static_cast<char *>(base) + layout.label_offsets);
    plan_batch(*batch, order, label_offsets);

    const BatchJob<Real> job{batch, options, inputs, input_strides, losses, grad, grad_strides, grad_scale,
                             base,  &layout, order,  label_offsets};
    (selected_kernels().*run)(job);
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
    status = plan_workspace(*batch, baseline::resolve_num_threads(options->num_threads, batch->batch_size),
                            with_grad != 0, &layout);
    if (status == FASTCTC_STATUS_SUCCESS) *bytes = layout.total_bytes;
    return status;
}

fastctc_status fastctc_ctc_loss_f32(const fastctc_batch *batch, const fastctc_options *options, const float *inputs,
                                    const int64_t input_strides[3], float *losses, float *grad,
                                    const int64_t grad_strides[3], const float *grad_scale, void *workspace,
                                    size_t workspace_bytes) {
    return fastctc::compute(batch, options, inputs, input_strides, losses, grad, grad_strides, grad_scale, workspace,
                            workspace_bytes, &fastctc::KernelTable::run_f32);
}

fastctc_status fastctc_ctc_loss_f64(const fastctc_batch *batch, const fastctc_options *options, const double *inputs,
                                    const int64_t input_strides[3], double *losses, double *grad,
                                    const int64_t grad_strides[3], const double *grad_scale, void *workspace,
                                    size_t workspace_bytes) {
    return fastctc::compute(batch, options, inputs, input_strides, losses, grad, grad_strides, grad_scale, workspace,
                            workspace_bytes, &fastctc::KernelTable::run_f64);
}

}  // extern "C"
