// One batch item as the per-sequence kernels see it.
#pragma once

#include <cstdint>

#include "extended_label.hpp"
#include "isa.hpp"

namespace fastctc::FASTCTC_ISA {

template <typename Real>
struct Sequence {
    const Real *inputs;          // frame 0 of this sequence
    int64_t input_time_stride;   // elements between frames
    int64_t input_class_stride;  // elements between classes
    Real *grad;                  // frame 0 of this sequence's gradient, or nullptr
    int64_t grad_time_stride;
    int64_t grad_class_stride;
    int64_t frames;              // input length T_n
    int64_t num_classes;         // C
    ExtendedLabel label;
    bool log_probs;              // inputs are log-scores, not logits
    double grad_scale;
    // Posteriors (fastctc_ctc_posteriors) instead of a gradient: grad receives
    // the class occupancy itself, and state_occupancy, if set, each state's.
    bool occupancy = false;
    Real *state_occupancy = nullptr;  // frame 0 of this sequence's (T, S) rows
    int64_t state_time_stride = 0;
    int64_t state_stride = 0;
    int64_t num_states = 0;           // S: states [|l'|, S) get 0

    const Real *input_row(int64_t t) const { return inputs + t * input_time_stride; }
    // Row t + 1, the one read after row t, or null after the last frame.
    const Real *next_input_row(int64_t t) const { return t + 1 < frames ? input_row(t + 1) : nullptr; }
    Real *grad_row(int64_t t) const { return grad + t * grad_time_stride; }
    Real *next_grad_row(int64_t t) const { return t + 1 < frames ? grad_row(t + 1) : nullptr; }
    Real *state_row(int64_t t) const { return state_occupancy + t * state_time_stride; }
};

// Sequence n of a (T, N, C) batch that is only read (alignment and decoding): no gradient,
// no posteriors. inputs may be null for an empty batch.
template <typename Real>
Sequence<Real> read_only_sequence(const Real *inputs, const int64_t input_strides[3], int64_t n, int64_t frames,
                                  int64_t num_classes, ExtendedLabel label, bool log_probs) {
    return Sequence<Real>{inputs ? inputs + n * input_strides[1] : nullptr,
                          input_strides[0],
                          input_strides[2],
                          nullptr,
                          0,
                          0,
                          frames,
                          num_classes,
                          label,
                          log_probs,
                          1.0};
}

}  // namespace fastctc::FASTCTC_ISA
