// The CUDA entry points of the CTC loss (ctc_cuda.h).
//
// One template computes a batch for float and double; the extern "C"
// functions are thin instantiations.  The host checks its own arguments with
// the rules of the C++ core, plans the workspace from host-side extents, and
// enqueues on the caller's stream, in order:
//
//   check_batch        1 block      device lengths and labels; label offsets
//   prepare_sequences  N blocks     impossible sequences; class chains (grad)
//   log_normalisers    warp/frame   ln sum_c e^{u_c} (logits only)
//   lattice_recursions N blocks     ln alpha, ln p(l|x), the losses; with a
//                      (+ N)        gradient N more: ln beta, at the same time
//   gradient           warp/row     occupancies, the gradient rows (grad only)
//
// With a gradient, rows that fit in shared memory and at most
// probability::kMaxFrames frames, the lattice runs in probability space first (probability_recursions.cuh), and the log-space
// kernels then redo only the sequences it could not vouch for:
//
//   probability_emissions   warp/frame y of the blank and each label position;
//                                      marks sequences with one above 1 or NaN
//   probability_recursions  2N blocks  alpha, beta, the losses; marks sequences
//   gradient (probability)  warp/row   the rows it can vouch for; marks the rest
//   lattice_recursions      2N blocks  the marked sequences only
//   gradient (log space)    warp/row   the marked sequences only
//
// Nothing here waits for the device, allocates or copies.
#include <cuda_runtime.h>

#include <cstdint>

#include "../validate.hpp"
#include "device_workspace.hpp"
#include "fastctc/ctc_cuda.h"
#include "forward_backward.cuh"
#include "gradient.cuh"
#include "prepare.cuh"
#include "probability_recursions.cuh"
#include "softmax.cuh"

namespace fastctc {
namespace cuda {
namespace {

// Blocks for a one-warp-per-row kernel: one warp per row up to a grid that
// fills any GPU many times over; beyond that the warps stride over the rows.
unsigned row_blocks(int64_t rows) {
    const int64_t blocks = (rows + kRowWarps - 1) / kRowWarps;
    constexpr int64_t kMaxBlocks = int64_t(1) << 20;
    return unsigned(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

DeviceScratch scratch_arrays(void *workspace, const DeviceWorkspaceLayout &layout) {
    char *base = static_cast<char *>(device_workspace_base(workspace));
    return DeviceScratch{
        reinterpret_cast<int32_t *>(base + layout.batch_valid),
        reinterpret_cast<int64_t *>(base + layout.label_offsets),
        reinterpret_cast<int32_t *>(base + layout.impossible),
        reinterpret_cast<double *>(base + layout.log_p),
        reinterpret_cast<double *>(base + layout.log_norm),
        reinterpret_cast<double *>(base + layout.alpha),
        reinterpret_cast<double *>(base + layout.beta),
        reinterpret_cast<int32_t *>(base + layout.alpha_exponent),
        reinterpret_cast<int32_t *>(base + layout.beta_exponent),
        reinterpret_cast<double *>(base + layout.emissions),
        reinterpret_cast<int32_t *>(base + layout.untrusted),
        reinterpret_cast<int32_t *>(base + layout.unvouched),
        reinterpret_cast<double *>(base + layout.rolling),
        reinterpret_cast<int64_t *>(base + layout.next_label),
        reinterpret_cast<int32_t *>(base + layout.first_label),
    };
}

// Whether every launch so far succeeded; the error stays for cudaGetLastError().
bool launched() { return cudaPeekAtLastError() == cudaSuccess; }

// The dynamic shared memory for the lattice kernels: enough for their rows
// and classes where the device allows it (beyond the 48 KB any block may
// take, after opting in), else none, and the rows stay in the workspace (log
// space only).  False if a CUDA call failed.
template <typename Real>
bool lattice_shared_memory(int64_t max_states, size_t *bytes) {
    constexpr size_t kDefaultLimit = 48 * 1024 - kLatticeStaticShared;
    const size_t wanted = lattice_shared_bytes(max_states);
    *bytes = 0;
    if (wanted <= kDefaultLimit) {
        *bytes = wanted;
        return true;
    }
    int device = 0, limit = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) != cudaSuccess)
        return false;
    if (wanted + kLatticeStaticShared > size_t(limit)) return true;  // too long a label: the workspace
    const auto allow = [&](auto kernel) {
        return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(wanted)) == cudaSuccess;
    };
    if (!allow(lattice_recursions<Real>) || !allow(probability_recursions<Real, 1>) ||
        !allow(probability_recursions<Real, 2>))
        return false;
    *bytes = wanted;
    return true;
}

template <typename Real>
fastctc_status compute(const fastctc_batch *batch, int64_t max_label_length, const fastctc_options *options,
                       const Real *inputs, const int64_t input_strides[3], Real *losses, Real *grad,
                       const int64_t grad_strides[3], const Real *grad_scale, void *workspace,
                       size_t workspace_bytes, cudaStream_t stream) {
    fastctc_status status = validate_extents(batch, options);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    DeviceWorkspaceLayout layout;
    status = plan_device_workspace(batch->max_time, batch->batch_size, max_label_length, grad != nullptr, &layout);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    const int64_t size = batch->batch_size;
    if (size == 0) return FASTCTC_STATUS_SUCCESS;
    if (!batch->input_lengths || !batch->label_lengths || (!batch->labels && max_label_length > 0) || !losses ||
        !input_strides || (grad && !grad_strides))
        return FASTCTC_STATUS_INVALID_VALUE;
    if (!inputs && batch->max_time > 0) return FASTCTC_STATUS_INVALID_VALUE;
    if (!workspace || workspace_bytes < layout.total_bytes) return FASTCTC_STATUS_WORKSPACE_TOO_SMALL;

    DeviceBatch<Real> b{};
    b.inputs = inputs;
    b.losses = losses;
    b.grad = grad;
    b.grad_scale = grad_scale;
    for (int i = 0; i < 3; ++i) {
        b.input_strides[i] = input_strides[i];
        b.grad_strides[i] = grad ? grad_strides[i] : 0;
    }
    b.input_lengths = batch->input_lengths;
    b.label_lengths = batch->label_lengths;
    b.labels = batch->labels;
    b.max_time = batch->max_time;
    b.batch_size = size;
    b.num_classes = batch->num_classes;
    b.max_label_length = max_label_length;
    b.max_states = layout.max_states;
    b.max_groups = layout.max_groups;
    b.blank = options->blank;
    b.log_probs = options->log_probs != 0;
    b.zero_infinity = options->zero_infinity != 0;
    b.scratch = scratch_arrays(workspace, layout);

    const unsigned sequences = unsigned(size);  // <= INT32_MAX (device_workspace.cpp)
    const int64_t rows = size * batch->max_time;
    const int lattice_block = lattice_threads(layout.max_states);
    size_t lattice_shared = 0;
    if (!lattice_shared_memory<Real>(layout.max_states, &lattice_shared)) return FASTCTC_STATUS_CUDA_ERROR;
    b.lattice_in_shared = lattice_shared > 0;
    check_batch<<<1, kCheckThreads, 0, stream>>>(b);
    if (!launched()) return FASTCTC_STATUS_CUDA_ERROR;
    prepare_sequences<<<sequences, kPrepareThreads, 0, stream>>>(b);
    if (!launched()) return FASTCTC_STATUS_CUDA_ERROR;
    if (!b.log_probs && rows > 0) {
        log_normalisers<<<row_blocks(rows), kRowThreads, 0, stream>>>(b);
        if (!launched()) return FASTCTC_STATUS_CUDA_ERROR;
    }
    const unsigned lattice_blocks = unsigned(layout.lattice_blocks);
    const bool probability_path =
        grad && rows > 0 && b.lattice_in_shared && batch->max_time <= lattice::probability::kMaxFrames;
    if (!probability_path) {  // log space throughout
        lattice_recursions<<<lattice_blocks, lattice_block, lattice_shared, stream>>>(b, false);
        if (!launched()) return FASTCTC_STATUS_CUDA_ERROR;
        if (grad && rows > 0) gradient<Real, LogRows><<<row_blocks(rows), kRowThreads, 0, stream>>>(b, GradientPass::kAll);
        return launched() ? FASTCTC_STATUS_SUCCESS : FASTCTC_STATUS_CUDA_ERROR;
    }
    probability_emissions<<<row_blocks(rows), kRowThreads, 0, stream>>>(b);
    if (!launched()) return FASTCTC_STATUS_CUDA_ERROR;
    const int probability_block = probability_threads(layout.max_states);
    if (probability_sweeps(layout.max_states) == 1)
        probability_recursions<Real, 1><<<lattice_blocks, probability_block, lattice_shared, stream>>>(b);
    else
        probability_recursions<Real, 2><<<lattice_blocks, probability_block, lattice_shared, stream>>>(b);
    if (!launched()) return FASTCTC_STATUS_CUDA_ERROR;
    gradient<Real, ProbabilityRows><<<row_blocks(rows), kRowThreads, 0, stream>>>(b, GradientPass::kTrusted);
    if (!launched()) return FASTCTC_STATUS_CUDA_ERROR;
    lattice_recursions<<<lattice_blocks, lattice_block, lattice_shared, stream>>>(b, true);
    if (!launched()) return FASTCTC_STATUS_CUDA_ERROR;
    gradient<Real, LogRows><<<row_blocks(rows), kRowThreads, 0, stream>>>(b, GradientPass::kUntrusted);
    return launched() ? FASTCTC_STATUS_SUCCESS : FASTCTC_STATUS_CUDA_ERROR;
}

}  // namespace
}  // namespace cuda
}  // namespace fastctc

extern "C" {

fastctc_status fastctc_cuda_workspace_size(const fastctc_batch *batch, int64_t max_label_length,
                                           const fastctc_options *options, int with_grad, size_t *bytes) {
    using namespace fastctc;
    if (!bytes) return FASTCTC_STATUS_INVALID_VALUE;
    fastctc_status status = validate_extents(batch, options);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    cuda::DeviceWorkspaceLayout layout;
    status = cuda::plan_device_workspace(batch->max_time, batch->batch_size, max_label_length, with_grad != 0,
                                         &layout);
    if (status == FASTCTC_STATUS_SUCCESS) *bytes = layout.total_bytes;
    return status;
}

fastctc_status fastctc_cuda_ctc_loss_f32(const fastctc_batch *batch, int64_t max_label_length,
                                         const fastctc_options *options, const float *inputs,
                                         const int64_t input_strides[3], float *losses, float *grad,
                                         const int64_t grad_strides[3], const float *grad_scale, void *workspace,
                                         size_t workspace_bytes, fastctc_cuda_stream stream) {
    return fastctc::cuda::compute(batch, max_label_length, options, inputs, input_strides, losses, grad,
                                  grad_strides, grad_scale, workspace, workspace_bytes, stream);
}

fastctc_status fastctc_cuda_ctc_loss_f64(const fastctc_batch *batch, int64_t max_label_length,
                                         const fastctc_options *options, const double *inputs,
                                         const int64_t input_strides[3], double *losses, double *grad,
                                         const int64_t grad_strides[3], const double *grad_scale,
                                         void *workspace, size_t workspace_bytes, fastctc_cuda_stream stream) {
    return fastctc::cuda::compute(batch, max_label_length, options, inputs, input_strides, losses, grad,
                                  grad_strides, grad_scale, workspace, workspace_bytes, stream);
}

}  // extern "C"
