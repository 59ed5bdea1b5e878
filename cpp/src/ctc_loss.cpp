// The C entry points of the CTC loss and of the posteriors: validation,
// workspace planning and the order of work, then the kernels for this CPU
// (kernels.cpp via dispatch.cpp).  The posteriors are the loss's own
// forward-backward, writing occupancies where the loss writes its gradient.
//
// Sequences are shared out to OpenMP threads most-work-first with a dynamic
// schedule, alone or, where their labels are short, four at a time
// (plan_loss_batch()); each is computed start to finish by one thread, or, when
// the batch is a single sequence, by all threads in a fixed split.  Either way
// the results do not depend on the thread count or the schedule.
#include <cstdint>

#include "batch_order.hpp"
#include "fastctc/ctc.h"
#include "kernel_table.hpp"
#include "parallel.hpp"
#include "scratch.hpp"
#include "validate.hpp"
#include "workspace.hpp"

namespace fastctc {
namespace {

// The threads of a loss or posteriors call: as for the other calls, never more
// than there are sequences, except that a single sequence keeps them all, to
// share its work (uses_shared_sequence()).
int loss_threads(int32_t requested, int64_t batch_size) {
    return baseline::resolve_num_threads(requested, batch_size == 1 ? baseline::kMaxThreads : batch_size);
}

// The workspace of a validated batch and the kernels that run it, planned
// together: kernels_for() the batch's rows, except that where
// eight_lane_kernels() exist, a batch whose frames are read through the class
// table plans its wide groups for them and runs on them if it has any.  (With
// long rows of exponentials, the larger wide groups balanced two threads worse
// on sequences of different lengths: T=250 N=32 C=1024 L=60 var, 5% more time.)
// fastctc_workspace_size() reports the same plan.
fastctc_status plan_batch(const fastctc_batch &batch, const fastctc_options &options, bool with_grad,
                          WorkspaceLayout *layout, const KernelTable **kernels) {
    const int threads = loss_threads(options.num_threads, batch.batch_size);
    Extents e;  // taken once for both plans: a pass over the batch (3 us for 400 sequences)
    if (!batch_extents(batch, &e)) return FASTCTC_STATUS_SIZE_OVERFLOW;
    fastctc_status status = plan_workspace(batch, e, threads, with_grad, /*eight_lane_vectors=*/false, layout);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    const bool long_exponential_rows =
        !options.log_probs && !uses_class_table(batch.num_classes, layout->longest_label);
    *kernels = &kernels_for(long_exponential_rows);
    const KernelTable *eight_lanes = long_exponential_rows ? nullptr : eight_lane_kernels();
    if (!eight_lanes || !layout->grouping) return FASTCTC_STATUS_SUCCESS;
    WorkspaceLayout wide;
    if (plan_workspace(batch, e, threads, with_grad, /*eight_lane_vectors=*/true, &wide) == FASTCTC_STATUS_SUCCESS &&
        wide.wide_grouped > 0) {
        *layout = wide;
        *kernels = eight_lanes;
    }
    return FASTCTC_STATUS_SUCCESS;
}

// Where a batch's results go (see BatchJob).
template <typename Real>
struct Outputs {
    Real *losses;
    Real *grad;
    const int64_t *grad_strides;
    const Real *grad_scale;
    Real *state_occupancy = nullptr;
    const int64_t *state_strides = nullptr;
    bool posteriors = false;
};

template <typename Real>
fastctc_status compute(const fastctc_batch *batch, const fastctc_options *options, const Real *inputs,
                       const int64_t input_strides[3], const Outputs<Real> &out, void *workspace,
                       size_t workspace_bytes, void (*const KernelTable::*run)(const BatchJob<Real> &)) {
    fastctc_status status = validate_batch(batch, options, /*check_labels=*/true);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    const int64_t size = batch->batch_size;
    if (size == 0) return FASTCTC_STATUS_SUCCESS;
    if (!out.losses || !input_strides || (out.grad && !out.grad_strides) ||
        (out.state_occupancy && !out.state_strides))
        return FASTCTC_STATUS_INVALID_VALUE;
    if (batch->max_time > 0 && (!inputs || (out.posteriors && !out.grad))) return FASTCTC_STATUS_INVALID_VALUE;

    WorkspaceLayout layout;
    const KernelTable *kernels = nullptr;
    status = plan_batch(*batch, *options, out.grad != nullptr, &layout, &kernels);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    if (!workspace || workspace_bytes < layout.total_bytes) return FASTCTC_STATUS_WORKSPACE_TOO_SMALL;

    void *base = workspace_base(workspace);
    int64_t *order = at_offset<int64_t>(base, layout.order);
    int64_t *label_offsets = at_offset<int64_t>(base, layout.label_offsets);
    int64_t *unit_starts = at_offset<int64_t>(base, layout.unit_starts);
    const LossPlan plan =
        plan_loss_batch(*batch, layout.grouping, layout.wide_grouped, order, unit_starts, label_offsets);
    const int64_t num_states = 2 * layout.longest_label + 1;  // the state occupancy rows' width

    const BatchJob<Real> job{batch,           options,          inputs,         input_strides,   out.losses,
                             out.grad,        out.grad_strides, out.grad_scale, out.state_occupancy,
                             out.state_strides, num_states,     out.posteriors, base,            &layout,
                             order,           label_offsets,    unit_starts,    plan.units,      plan.wide_grouped,
                             plan.grouped};
    (kernels->*run)(job);
    return FASTCTC_STATUS_SUCCESS;
}

template <typename Real>
fastctc_status loss(const fastctc_batch *batch, const fastctc_options *options, const Real *inputs,
                    const int64_t input_strides[3], Real *losses, Real *grad, const int64_t grad_strides[3],
                    const Real *grad_scale, void *workspace, size_t workspace_bytes,
                    void (*const KernelTable::*run)(const BatchJob<Real> &)) {
    const Outputs<Real> out{losses, grad, grad_strides, grad_scale};
    return compute(batch, options, inputs, input_strides, out, workspace, workspace_bytes, run);
}

template <typename Real>
fastctc_status posteriors(const fastctc_batch *batch, const fastctc_options *options, const Real *inputs,
                          const int64_t input_strides[3], Real *log_likelihoods, Real *class_occupancy,
                          const int64_t class_strides[3], Real *state_occupancy, const int64_t state_strides[3],
                          void *workspace, size_t workspace_bytes,
                          void (*const KernelTable::*run)(const BatchJob<Real> &)) {
    const Outputs<Real> out{log_likelihoods, class_occupancy, class_strides, nullptr,
                            state_occupancy, state_strides,   true};
    return compute(batch, options, inputs, input_strides, out, workspace, workspace_bytes, run);
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
    const KernelTable *kernels = nullptr;
    status = plan_batch(*batch, *options, with_grad != 0, &layout, &kernels);
    if (status == FASTCTC_STATUS_SUCCESS) *bytes = layout.total_bytes;
    return status;
}

fastctc_status fastctc_ctc_loss_f32(const fastctc_batch *batch, const fastctc_options *options, const float *inputs,
                                    const int64_t input_strides[3], float *losses, float *grad,
                                    const int64_t grad_strides[3], const float *grad_scale, void *workspace,
                                    size_t workspace_bytes) {
    return fastctc::loss(batch, options, inputs, input_strides, losses, grad, grad_strides, grad_scale, workspace,
                         workspace_bytes, &fastctc::KernelTable::run_f32);
}

fastctc_status fastctc_ctc_loss_f64(const fastctc_batch *batch, const fastctc_options *options, const double *inputs,
                                    const int64_t input_strides[3], double *losses, double *grad,
                                    const int64_t grad_strides[3], const double *grad_scale, void *workspace,
                                    size_t workspace_bytes) {
    return fastctc::loss(batch, options, inputs, input_strides, losses, grad, grad_strides, grad_scale, workspace,
                         workspace_bytes, &fastctc::KernelTable::run_f64);
}

fastctc_status fastctc_ctc_posteriors_f32(const fastctc_batch *batch, const fastctc_options *options,
                                          const float *inputs, const int64_t input_strides[3],
                                          float *log_likelihoods, float *class_occupancy,
                                          const int64_t class_strides[3], float *state_occupancy,
                                          const int64_t state_strides[3], void *workspace, size_t workspace_bytes) {
    return fastctc::posteriors(batch, options, inputs, input_strides, log_likelihoods, class_occupancy,
                               class_strides, state_occupancy, state_strides, workspace, workspace_bytes,
                               &fastctc::KernelTable::run_f32);
}

fastctc_status fastctc_ctc_posteriors_f64(const fastctc_batch *batch, const fastctc_options *options,
                                          const double *inputs, const int64_t input_strides[3],
                                          double *log_likelihoods, double *class_occupancy,
                                          const int64_t class_strides[3], double *state_occupancy,
                                          const int64_t state_strides[3], void *workspace, size_t workspace_bytes) {
    return fastctc::posteriors(batch, options, inputs, input_strides, log_likelihoods, class_occupancy,
                               class_strides, state_occupancy, state_strides, workspace, workspace_bytes,
                               &fastctc::KernelTable::run_f64);
}

}  // extern "C"
