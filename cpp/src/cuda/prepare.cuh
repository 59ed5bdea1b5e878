// The kernels that run before the lattice: checking the device-resident
// lengths and labels, locating each label in the concatenation, and the
// per-sequence label structure.
#pragma once

#include <cstdint>

#include "../validate.hpp"
#include "device_batch.cuh"
#include "lattice.hpp"

namespace fastctc {
namespace cuda {

constexpr int kCheckThreads = 1024;

// One block for the whole batch.  Checks every length with the rules of
// validate.hpp, writes label_offsets (an exclusive prefix sum of the label
// lengths, in integers, so exact in any order), then checks every label.
// batch_valid becomes 1 only if all of it holds; every later kernel reads it
// first and touches no length or label of a batch that failed.
template <typename Real>
__global__ void __launch_bounds__(kCheckThreads) check_batch(DeviceBatch<Real> b) {
    __shared__ int64_t partial[kCheckThreads];
    const int tid = threadIdx.x;
    // Each thread owns a contiguous chunk of sequences, so the scan is a scan
    // of per-thread sums.
    const int64_t chunk = (b.batch_size + kCheckThreads - 1) / kCheckThreads;
    const int64_t begin = tid * chunk < b.batch_size ? tid * chunk : b.batch_size;
    const int64_t end = begin + chunk < b.batch_size ? begin + chunk : b.batch_size;

    bool ok = true;
    int64_t sum = 0;
    for (int64_t n = begin; n < end; ++n) {
        const int64_t label_length = b.label_lengths[n];
        ok = ok && valid_input_length(b.input_lengths[n], b.max_time) && label_length >= 0 &&
             label_length <= b.max_label_length;
        if (ok) sum += label_length;  // at most N x max_label_length: fits (device_workspace.cpp)
    }
    if (!__syncthreads_and(ok)) {  // the same answer in every thread
        if (tid == 0) *b.scratch.batch_valid = 0;
        return;
    }

    // Inclusive Hillis-Steele scan of the per-thread sums.
    partial[tid] = sum;
    __syncthreads();
    for (int offset = 1; offset < kCheckThreads; offset *= 2) {
        const int64_t left = tid >= offset ? partial[tid - offset] : 0;
        __syncthreads();
        partial[tid] += left;
        __syncthreads();
    }
    int64_t offset = partial[tid] - sum;
    for (int64_t n = begin; n < end; ++n) {
        b.scratch.label_offsets[n] = offset;
        offset += b.label_lengths[n];
    }

    const int64_t total_labels = partial[kCheckThreads - 1];
    for (int64_t i = tid; i < total_labels; i += kCheckThreads)
        ok = ok && valid_label(b.labels[i], b.num_classes, b.blank);
    ok = __syncthreads_and(ok);
    if (tid == 0) *b.scratch.batch_valid = ok ? 1 : 0;
}

constexpr int kPrepareThreads = 256;

// One block per sequence.  Marks sequences with too few frames for their
// label and its compulsory blanks (an impossible alignment: loss +inf, zero
// gradient, inputs never read), and with a gradient, clears the marks of the
// probability path and builds the class chains of lattice.hpp that the
// gradient kernel follows.
//
// Note: finding each chain link scans the rest of the label, O(|l|^2 / threads)
// per sequence, once per call; small beside the O(T) sequential frames of the
// lattice, since T >= |l| for any possible alignment.
template <typename Real>
__global__ void __launch_bounds__(kPrepareThreads) prepare_sequences(DeviceBatch<Real> b) {
    if (!*b.scratch.batch_valid) return;
    const int64_t n = blockIdx.x;
    const ExtendedLabel label = b.label(n);
    if (threadIdx.x == 0) b.scratch.impossible[n] = b.input_lengths[n] < label.min_frames() ? 1 : 0;
    if (!b.grad) return;
    if (threadIdx.x == 0) {  // nothing left to log space yet (probability_recursions.cuh)
        b.scratch.untrusted[n] = 0;
        b.scratch.unvouched[n] = 0;
    }
    int64_t *next = b.scratch.next_label + n * b.max_label_length;
    int32_t *first = b.scratch.first_label + n * b.max_label_length;
    for (int64_t j = threadIdx.x; j < label.label_length(); j += kPrepareThreads) {
        next[j] = lattice::next_same_label(label, j);
        first[j] = lattice::first_of_its_class(label, j) ? 1 : 0;
    }
}

}  // namespace cuda
}  // namespace fastctc
