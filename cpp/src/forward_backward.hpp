// The CTC forward-backward algorithm for one sequence, in log space.
//
// Graves et al. 2006, Section 4.1, with 0-based frames t and states s (see
// extended_label.hpp).  ln y^t_k is the log-probability of class k at frame t:
// the log-softmax of the logits, or the given log-scores with log_probs.
//
// Forward variables, eqs. (5)-(7):
//     alpha_0(0) = y^0_b,  alpha_0(1) = y^0_{l_1},  alpha_0(s) = 0 otherwise;
//     alpha_t(s) = y^t_{l'_s} (alpha_{t-1}(s) + alpha_{t-1}(s-1)
//                              + [skip allowed] alpha_{t-1}(s-2));
//     p(l|x) = alpha_{T-1}(|l'|-1) + alpha_{T-1}(|l'|-2),              eq. (8).
//
// Backward variables: unlike the paper's beta (eqs. (9)-(11)), ours excludes
// the emission at frame t, beta_t(s) = beta^paper_t(s) / y^t_{l'_s}, so that
//     alpha_t(s) beta_t(s) / p(l|x)                          (eqs. (14)-(15))
// is the posterior occupancy gamma_t(s) of state s at frame t without a
// division by y, which would be 0/0 for a class of probability zero:
//     beta_{T-1}(|l'|-1) = beta_{T-1}(|l'|-2) = 1;
//     beta_t(s) = sum over s' in {s, s+1, s+2 if skip allowed into s+2}
//                 of y^{t+1}_{l'_{s'}} beta_{t+1}(s').
//
// Gradient, eq. (16): with occupancy(t, k) = sum_{s : l'_s = k} gamma_t(s),
//     d(-ln p) / d u^t_k      = y^t_k - occupancy(t, k)    (logits u)
//     d(-ln p) / d ln y^t_k   =       - occupancy(t, k)    (log-scores)
//
// Numerical twist: all of it in log space in double precision, whatever the
// input type, so nothing underflows on long sequences or peaked inputs.
// Note: this is the exact reference path; a faster probability-space path can
// sit beside it as long as it falls back here when it cannot be trusted.
#pragma once

#include <cmath>
#include <cstdint>

#include "class_slots.hpp"
#include "frame.hpp"
#include "log_space.hpp"
#include "sequence.hpp"

namespace fastctc {

// One frame's ln y^t_{l'_s} for any state s.
template <typename Real>
class FrameEmissions {
public:
    FrameEmissions(const Sequence<Real> &seq, int64_t t, double log_norm)
        : row_(seq.input_row(t)), class_stride_(seq.input_class_stride), label_(seq.label),
          log_norm_(log_norm) {}

    double operator()(int64_t s) const { return double(row_[label_[s] * class_stride_]) - log_norm_; }

private:
    const Real *row_;
    int64_t class_stride_;
    const ExtendedLabel &label_;
    double log_norm_;
};

// Runs the forward recursion over all frames and returns ln p(l|x).
// keep_all_rows: store ln alpha for every frame (needed by the backward pass),
// else only two rolling rows.  With a gradient requested, each frame's log
// normaliser goes to log_norm_out, and each gradient row is initialised while
// the input row is hot: scale * softmax for logits, 0 for log-scores; the
// backward pass then corrects only the classes of the label.
template <typename Real>
double forward_pass(const Sequence<Real> &seq, double *alpha, bool keep_all_rows, double *log_norm_out) {
    const ExtendedLabel &label = seq.label;
    const int64_t states = label.size();
    if (seq.frames == 0) return label.label_length() == 0 ? 0.0 : kNegInf;  // the empty path

    double *prev = nullptr;
    for (int64_t t = 0; t < seq.frames; ++t) {
        const Real *row = seq.input_row(t);
        const double log_norm =
            seq.log_probs ? 0.0 : log_normaliser(row, seq.num_classes, seq.input_class_stride);
        if (log_norm_out) log_norm_out[t] = log_norm;
        if (seq.grad) {
            if (seq.log_probs || seq.occupancy)
                write_zeros(seq.num_classes, seq.grad_row(t), seq.grad_class_stride);
            else
                write_scaled_softmax(row, seq.num_classes, seq.input_class_stride, log_norm,
                                     seq.grad_scale, seq.grad_row(t), seq.grad_class_stride);
        }

        const FrameEmissions<Real> emit(seq, t, log_norm);
        double *cur = alpha + (keep_all_rows ? t : (t & 1)) * states;
        if (t == 0) {  // initial conditions, eq. (6)
            for (int64_t s = 0; s < states; ++s) cur[s] = s < 2 ? emit(s) : kNegInf;
        } else {  // recursion, eqs. (6)-(7)
            for (int64_t s = 0; s < states; ++s) {
                const double stay = prev[s];
                const double step = s >= 1 ? prev[s - 1] : kNegInf;
                const double skip = label.can_skip_into(s) ? prev[s - 2] : kNegInf;
                cur[s] = emit(s) + log_add(stay, step, skip);
            }
        }
        prev = cur;
    }
    // eq. (8): a path ends in the last label or in the trailing blank.
    return log_add(prev[states - 1], states >= 2 ? prev[states - 2] : kNegInf);
}

// State occupancy row t, states [first, num_states): 0 (padding states,
// padding frames, impossible sequences).
template <typename Real>
void zero_states(const Sequence<Real> &seq, int64_t t, int64_t first) {
    for (int64_t s = first; s < seq.num_states; ++s) seq.state_row(t)[s * seq.state_stride] = Real(0);
}

// Runs the backward recursion and finishes the gradient rows that
// forward_pass() initialised: each label class k of frame t gets
// scale * (y^t_k - occupancy(t, k)) for logits, -scale * occupancy(t, k) for
// log-scores, both computed in double and rounded once; with seq.occupancy,
// occupancy(t, k) itself, and gamma_t(s) in the state occupancy rows.
template <typename Real>
void backward_pass(const Sequence<Real> &seq, const double *alpha, double log_p, const Scratch &scratch) {
    const ExtendedLabel &label = seq.label;
    const int64_t states = label.size();
    const int64_t classes = build_class_slots(label, scratch.state_slot, scratch.slot_class);

    // beta[s] holds beta_{t+1}(s) * y^{t+1}_{l'_s} (the paper's beta) on entry
    // to frame t, and is overwritten in increasing s with the same quantity for
    // frame t: state s reads only s, s+1 and s+2, which are not yet overwritten.
    double *beta = scratch.beta;
    for (int64_t t = seq.frames - 1; t >= 0; --t) {
        const double *alpha_t = alpha + t * states;
        const FrameEmissions<Real> emit(seq, t, scratch.log_norm[t]);
        for (int64_t k = 0; k < classes; ++k) scratch.occupancy[k] = 0.0;

        for (int64_t s = 0; s < states; ++s) {
            double beta_ts;  // beta_t(s), excluding the emission at t
            if (t == seq.frames - 1) {
                beta_ts = s >= states - 2 ? 0.0 : kNegInf;  // ln 1 in the two final states
            } else {
                const double step = s + 1 < states ? beta[s + 1] : kNegInf;
                const double skip = s + 2 < states && label.can_skip_into(s + 2) ? beta[s + 2] : kNegInf;
                beta_ts = log_add(beta[s], step, skip);
            }
            // gamma_t(s) = alpha_t(s) beta_t(s) / p(l|x), eqs. (14)-(15).
            const double gamma = std::exp(alpha_t[s] + beta_ts - log_p);
            scratch.occupancy[scratch.state_slot[s]] += gamma;
            if (seq.state_occupancy) seq.state_row(t)[s * seq.state_stride] = Real(gamma);
            beta[s] = beta_ts + emit(s);
        }
        if (seq.state_occupancy) zero_states(seq, t, states);

        // eq. (16), for the classes that occur in l' (or their occupancy alone).
        const Real *row = seq.input_row(t);
        Real *grad_row = seq.grad_row(t);
        for (int64_t k = 0; k < classes; ++k) {
            const int64_t c = scratch.slot_class[k];
            if (seq.occupancy) {
                grad_row[c * seq.grad_class_stride] = Real(scratch.occupancy[k]);
                continue;
            }
            const double y = seq.log_probs ? 0.0 : std::exp(double(row[c * seq.input_class_stride]) - scratch.log_norm[t]);
            grad_row[c * seq.grad_class_stride] = Real(seq.grad_scale * (y - scratch.occupancy[k]));
        }
    }
}

template <typename Real>
void zero_grad_rows(const Sequence<Real> &seq, int64_t first, int64_t last) {
    for (int64_t t = first; t < last; ++t) write_zeros(seq.num_classes, seq.grad_row(t), seq.grad_class_stride);
    if (seq.state_occupancy)
        for (int64_t t = first; t < last; ++t) zero_states(seq, t, 0);
}

// The loss -ln p(l|x) of one sequence and, when seq.grad is set, its gradient
// rows for all max_time frames.  An impossible alignment (too few frames for
// the label and its compulsory blanks, or zero probability through -inf
// inputs) gives +inf and a zero gradient.
template <typename Real>
double sequence_loss(const Sequence<Real> &seq, const Scratch &scratch) {
    if (seq.grad) zero_grad_rows(seq, seq.frames, seq.max_time);  // padding frames
    if (seq.frames < seq.label.min_frames()) {
        if (seq.grad) zero_grad_rows(seq, 0, seq.frames);
        return INFINITY;
    }
    if (!seq.grad) return -forward_pass(seq, scratch.alpha, /*keep_all_rows=*/false, nullptr);

    const double log_p = forward_pass(seq, scratch.alpha, /*keep_all_rows=*/true, scratch.log_norm);
    if (log_p == kNegInf) {
        zero_grad_rows(seq, 0, seq.frames);
        return INFINITY;
    }
    backward_pass(seq, scratch.alpha, log_p, scratch);
    return -log_p;
}

}  // namespace fastctc
