// The seam between the generic driver (ctc_loss.cpp, compiled once) and the
// kernels (kernels.cpp, compiled once per instruction-set level).
#pragma once

#include <cstdint>

#include "fastctc/ctc.h"
#include "workspace.hpp"

namespace fastctc {

// A validated batch with its planned workspace: everything a kernel needs.
template <typename Real>
struct BatchJob {
    const fastctc_batch *batch;
    const fastctc_options *options;
    const Real *inputs;
    const int64_t *input_strides;
    Real *losses;  // or, for the posteriors, the log-likelihoods
    Real *grad;    // nullptr for the loss alone; for the posteriors, the class occupancy
    const int64_t *grad_strides;
    const Real *grad_scale;  // nullptr for 1
    Real *state_occupancy;   // the posteriors' (T, N, num_states) state occupancy, or nullptr
    const int64_t *state_strides;
    int64_t num_states;      // 2 x the longest label + 1
    bool posteriors;         // occupancies instead of a gradient, -loss instead of the loss
    void *base;              // the aligned workspace
    const WorkspaceLayout *layout;
    const int64_t *order;          // the units' sequences (plan_loss_batch())
    const int64_t *label_offsets;  // where each label starts in batch->labels
    const int64_t *unit_starts;    // where each unit of work starts in order, most work first
    int64_t units;
    int64_t wide_grouped;          // a unit starting below this is a group of kWideGroup,
    int64_t grouped;               // else below this a group of kGroupSize
};

struct KernelTable {
    const char *level;  // what fastctc_simd_level() reports
    bool eight_lane_vectors;  // a group's eight lanes fit one vector register (pack.hpp)
    void (*run_f32)(const BatchJob<float> &job);
    void (*run_f64)(const BatchJob<double> &job);
};

// One table per compiled level (those not compiled for the target are absent).
extern const KernelTable kernels_baseline;
extern const KernelTable kernels_avx2;
extern const KernelTable kernels_avx512;

// The kernels for this CPU, or those FASTCTC_SIMD names (see dispatch.cpp).
const KernelTable &selected_kernels();

// The kernels for a batch: selected_kernels(), or a narrower level where the
// batch's frames are not read through long rows of exponentials and the CPU's
// widest level does not pay there (see dispatch.cpp).  The same bits either way.
const KernelTable &kernels_for(bool long_exponential_rows);

// The kernels for a batch of groups of eight, whose lanes fill one vector
// register: selected_kernels() where those are AVX-512 and the
// CPU runs 512-bit instructions at full speed (or FASTCTC_SIMD names AVX-512),
// else none (see dispatch.cpp).
const KernelTable *eight_lane_kernels();

}  // namespace fastctc
