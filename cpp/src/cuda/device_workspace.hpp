// The layout of the CUDA unit's device workspace (see ctc_cuda.h).
//
// One plan serves fastctc_cuda_workspace_size() and the compute calls, so the
// size reported is exactly the size used.  It depends only on host-side
// extents (T, N and the label-length bound), never on device data, so every
// address a kernel forms from it stays inside the workspace whatever the
// device-resident lengths hold.  Each sequence owns a fixed-size slice:
//
//     batch_valid     int32[1]        1 once the lengths and labels check out
//     label_offsets   int64[N]        where label n starts in labels
//     impossible      int32[N]        1: too few frames for label n
//     log_p           double[N]       ln p(l|x) per sequence
//     log_norm        double[N x T]   ln sum_c e^{u_c} per frame (logits only)
//     alpha           double[N x T x max_states]     ln alpha, or alpha scaled (gradient)
//     beta            double[N x T x max_states]     ln beta, or beta scaled (gradient)
//     alpha_exponent  int32[N x T x max_groups]      group exponents of alpha (gradient)
//     beta_exponent   int32[N x T x max_groups]      group exponents of beta (gradient)
//     emissions       double[N x T x (max_label_length + 1)]
//                                     y of the blank and of each label position
//                                     per frame, for the probability path (gradient)
//     untrusted       int32[N]        1: left to log space by the lattice (gradient)
//     unvouched       int32[N]        1: left to log space by the gradient (gradient)
//     rolling         double[blocks x 2 x max_states]
//                                     each lattice block's two rolling rows,
//                                     used where shared memory is too small
//                                     (blocks: N, or 2N with a gradient)
//     next_label      int64[N x max_label_length]    class chains (gradient)
//     first_label     int32[N x max_label_length]    chain heads (gradient)
#pragma once

#include <cstddef>
#include <cstdint>

#include "fastctc/ctc.h"

namespace fastctc {
namespace cuda {

// Enough for any access, and the alignment cudaMalloc gives, so that rows
// start on a memory transaction boundary.
constexpr size_t kDeviceAlignment = 256;

struct DeviceWorkspaceLayout {
    int64_t max_states = 1;  // 2 * max_label_length + 1
    int64_t max_groups = 1;  // groups of 32 states (probability_lattice.hpp)
    int64_t lattice_blocks = 0;  // N, or 2N with a gradient (lattice.cuh)
    // Byte offsets from the aligned base of the workspace.
    size_t batch_valid = 0, label_offsets = 0, impossible = 0, log_p = 0, log_norm = 0;
    size_t alpha = 0, beta = 0, alpha_exponent = 0, beta_exponent = 0, emissions = 0, untrusted = 0, unvouched = 0;
    size_t rolling = 0, next_label = 0, first_label = 0;
    size_t total_bytes = 0;  // including slack to align an unaligned workspace
};

// Plans the workspace for validated extents (max_time, batch_size >= 0);
// INVALID_VALUE for a negative max_label_length, SIZE_OVERFLOW when a size
// does not fit or the batch has more sequences than a kernel grid.
fastctc_status plan_device_workspace(int64_t max_time, int64_t batch_size, int64_t max_label_length,
                                     bool with_grad, DeviceWorkspaceLayout *layout);

// The aligned base address inside a caller's workspace.
void *device_workspace_base(void *workspace);

}  // namespace cuda
}  // namespace fastctc
