// A batch as the CUDA kernels see it: the caller's device arrays and the
// workspace arrays, passed to every kernel by value.
#pragma once

#include <cstdint>

#include "../extended_label.hpp"

namespace fastctc {
namespace cuda {

using FASTCTC_ISA::ExtendedLabel;  // the core's class, host and device

// The workspace arrays, laid out by device_workspace.hpp.
struct DeviceScratch {
    int32_t *batch_valid;
    int64_t *label_offsets;
    int32_t *impossible;
    double *log_p;
    double *log_norm;
    double *alpha;
    double *beta;
    int32_t *alpha_exponent;
    int32_t *beta_exponent;
    double *emissions;
    int32_t *untrusted;
    int32_t *unvouched;
    double *rolling;
    int64_t *next_label;
    int32_t *first_label;
};

template <typename Real>
struct DeviceBatch {
    const Real *inputs;
    int64_t input_strides[3];  // time, batch, class (elements)
    Real *losses;
    Real *grad;                // nullptr: the loss only
    int64_t grad_strides[3];
    const Real *grad_scale;    // nullptr: 1
    const int64_t *input_lengths;
    const int64_t *label_lengths;
    const int32_t *labels;     // concatenated
    int64_t max_time, batch_size, num_classes, max_label_length;
    int64_t max_states;        // 2 * max_label_length + 1
    int64_t max_groups;        // lattice::probability::group_count(max_states)
    bool lattice_in_shared;    // the lattice blocks' rows fit their shared memory
    int32_t blank;
    bool log_probs, zero_infinity;
    DeviceScratch scratch;

    __device__ const Real *input_row(int64_t t, int64_t n) const {
        return inputs + t * input_strides[0] + n * input_strides[1];
    }
    __device__ Real *grad_row(int64_t t, int64_t n) const { return grad + t * grad_strides[0] + n * grad_strides[1]; }

    // Valid once check_batch() has accepted the batch.
    __device__ ExtendedLabel label(int64_t n) const {
        return ExtendedLabel(labels + scratch.label_offsets[n], label_lengths[n], blank);
    }

    // ln sum_c e^{u^t_c} of sequence n, or 0 for log-scores.
    __device__ double log_norm(int64_t t, int64_t n) const {
        return log_probs ? 0.0 : scratch.log_norm[n * max_time + t];
    }

    // ln alpha_t and ln beta_t of sequence n (with a gradient), or in
    // probability space their scaled values and group exponents.
    __device__ double *alpha_row(int64_t n, int64_t t) const {
        return scratch.alpha + (n * max_time + t) * max_states;
    }
    __device__ double *beta_row(int64_t n, int64_t t) const { return scratch.beta + (n * max_time + t) * max_states; }
    __device__ int32_t *alpha_exponent_row(int64_t n, int64_t t) const {
        return scratch.alpha_exponent + (n * max_time + t) * max_groups;
    }
    __device__ int32_t *beta_exponent_row(int64_t n, int64_t t) const {
        return scratch.beta_exponent + (n * max_time + t) * max_groups;
    }
    // y^t of the blank and of each position of label n (probability path).
    __device__ double *emission_row(int64_t n, int64_t t) const {
        return scratch.emissions + (n * max_time + t) * (max_label_length + 1);
    }
    // The two rolling rows of lattice block `block` in the workspace, one after the other.
    __device__ double *rolling_rows(int64_t block) const { return scratch.rolling + block * 2 * max_states; }
};

}  // namespace cuda
}  // namespace fastctc
