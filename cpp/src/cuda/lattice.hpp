// The CTC lattice one state at a time: the pure functions the CUDA kernels
// apply to each state s of each frame t.
//
// Graves et al. 2006, Section 4.1, in the notation of forward_backward.hpp:
// 0-based frames and states, blanks at even states, l_j at state 2j + 1, our
// beta excluding the emission at its own frame, and everything in log space in
// double precision.  The functions are compiled by nvcc into the kernels and by
// the host compiler into cpp/tests/cuda_lattice_test.cpp, which drives them
// frame by frame and checks them against the C++ core.
#pragma once

#include <cmath>
#include <cstdint>

#include "../extended_label.hpp"
#include "../host_device.hpp"
#include "scalar_log_space.hpp"

namespace fastctc {
namespace lattice {

using FASTCTC_ISA::ExtendedLabel;  // the core's class, host and device

// ln alpha_t(s), eqs. (5)-(7).  prev is ln alpha_{t-1} (nullptr at t = 0),
// log_emission is ln y^t_{l'_s}, and can_skip says whether a path may jump
// from s - 2 to s (ExtendedLabel::can_skip_into(s)).
FASTCTC_HOST_DEVICE inline double alpha(const double *prev, int64_t s, bool can_skip, double log_emission) {
    if (!prev) return s < 2 ? log_emission : kNegInf;  // initial conditions, eq. (5)
    const double stay = prev[s];
    const double step = s >= 1 ? prev[s - 1] : kNegInf;
    const double skip = can_skip ? prev[s - 2] : kNegInf;
    return log_emission + log_add(stay, step, skip);  // eqs. (6)-(7)
}

// ln p(l|x) from the last row of ln alpha, eq. (8): a path ends in the last
// label or in the trailing blank.
FASTCTC_HOST_DEVICE inline double log_likelihood(const double *last, int64_t states) {
    return log_add(last[states - 1], states >= 2 ? last[states - 2] : kNegInf);
}

// ln beta_t(s), excluding the emission at t (see forward_backward.hpp).
// next_weighted[s'] is ln(beta_{t+1}(s') y^{t+1}_{l'_{s'}}), or nullptr at the
// last frame, where beta is 1 in the two final states (eq. (9)); can_skip
// says whether a path may jump from s to s + 2 (s + 2 < |l'| and
// ExtendedLabel::can_skip_into(s + 2)).
FASTCTC_HOST_DEVICE inline double beta(const double *next_weighted, int64_t s, int64_t states, bool can_skip) {
    if (!next_weighted) return s >= states - 2 ? 0.0 : kNegInf;
    const double step = s + 1 < states ? next_weighted[s + 1] : kNegInf;
    const double skip = can_skip ? next_weighted[s + 2] : kNegInf;
    return log_add(next_weighted[s], step, skip);  // eqs. (10)-(11)
}

// The posterior occupancy gamma_t(s) = alpha_t(s) beta_t(s) / p(l|x),
// eqs. (14)-(15), is computed as scaled_product(...) / z_t, where shift is
// frame_shift() of the frame's largest ln(alpha_t(s) beta_t(s)) and z_t the
// sum of the frame's scaled products.  Eq. (14) makes z_t e^shift equal to
// p(l|x) at every t; dividing by the frame's own sum instead of by p(l|x)
// keeps gamma exact to rounding when |ln p| is large (long or peaked inputs):
// ln alpha and ln beta then carry absolute rounding errors of order
// eps |ln p|, most of them shared by the whole frame, which the division
// cancels.  (The C++ core normalises its frames the same way.)
FASTCTC_HOST_DEVICE inline double frame_shift(double largest_log_product) {
    return largest_log_product == kNegInf ? 0.0 : largest_log_product;  // no -inf - -inf
}

FASTCTC_HOST_DEVICE inline double scaled_product(double log_alpha, double log_beta, double shift) {
    return std::exp(log_alpha + log_beta - shift);
}

// Eq. (16) gathers the occupancy of every state that emits class k.  The
// blank's states are the even ones; a label class's states are those of its
// occurrences in l, chained in increasing order from its first occurrence:
// next_same_label(j) is the next j' > j with l_j' = l_j, or -1.
FASTCTC_HOST_DEVICE inline int64_t next_same_label(const ExtendedLabel &label, int64_t j) {
    const int32_t k = label[2 * j + 1];
    for (int64_t i = j + 1; i < label.label_length(); ++i)
        if (label[2 * i + 1] == k) return i;
    return -1;
}

// Whether l_j is the first occurrence of its class in l: the head of its chain.
FASTCTC_HOST_DEVICE inline bool first_of_its_class(const ExtendedLabel &label, int64_t j) {
    const int32_t k = label[2 * j + 1];
    for (int64_t i = 0; i < j; ++i)
        if (label[2 * i + 1] == k) return false;
    return true;
}

// One gradient element, eq. (16), scaled: y is the softmax for logits and 0
// for log-scores (see forward_backward.hpp).
FASTCTC_HOST_DEVICE inline double gradient(double y, double occupancy_sum, double scale) {
    return scale * (y - occupancy_sum);
}

}  // namespace lattice
}  // namespace fastctc
