// Forced alignment: the most probable single path through the CTC lattice.
//
// The max-product twin of the forward recursion of Graves et al. 2006,
// eqs. (6)-(7), in the 0-based notation of extended_label.hpp: with
// ln y^t_k the log-probability of class k at frame t,
//     delta_0(0) = ln y^0_b,  delta_0(1) = ln y^0_{l_1},  delta_0(s) = -inf otherwise;
//     delta_t(s) = ln y^t_{l'_s} + max(delta_{t-1}(s), delta_{t-1}(s-1),
//                                       [skip allowed] delta_{t-1}(s-2));
// and the best path ends in the last label or the final blank (as in eq. (8)):
//     ln p(best path) = max(delta_{T-1}(|l'|-1), delta_{T-1}(|l'|-2)).
// Each maximum records its move (0: stay, 1: step from s-1, 2: skip from s-2)
// in a T x |l'| byte table, and the path is read back from the end.
//
// Numerical twist: sums of logs in double precision, so nothing underflows.
// Comparisons follow argmax.hpp: ties keep the predecessor found first (stay,
// then step, then skip), and a NaN wins, so it reaches the score and no path
// is reported, never a path chosen by comparisons with NaN.
#pragma once

#include <cmath>
#include <cstdint>

#include "argmax.hpp"
#include "frame.hpp"
#include "isa.hpp"
#include "log_space.hpp"
#include "sequence.hpp"

namespace fastctc::FASTCTC_ISA {

// ln y^t_{l'_s}: frame t's log-probability of the class of state s.
template <typename Real>
double log_emission(const Sequence<Real> &seq, int64_t t, double log_norm, int64_t s) {
    return double(seq.input_row(t)[seq.label[s] * seq.input_class_stride]) - log_norm;
}

struct ViterbiScratch {
    double *delta;     // two rolling rows of |l'|
    double *log_norm;  // per frame: ln sum_c e^{u_c} (0 for log-probs)
    uint8_t *moves;    // frames x |l'| back-pointers
};

// Where one sequence's path goes: frame rows of length frames, and one entry
// per label token.
template <typename Real>
struct AlignmentOut {
    int32_t *frame_states;
    Real *frame_log_probs;
    int64_t *token_starts;
    int64_t *token_ends;
    Real *token_scores;
};

// Runs the recursion over all frames; returns ln p(best path) and sets
// *end_state to the state the best path ends in.
template <typename Real>
double viterbi_forward(const Sequence<Real> &seq, const ViterbiScratch &scratch, int64_t *end_state) {
    const ExtendedLabel &label = seq.label;
    const int64_t states = label.size();
    double *prev = nullptr;
    for (int64_t t = 0; t < seq.frames; ++t) {
        const Real *row = seq.input_row(t);
        scratch.log_norm[t] = seq.log_probs ? 0.0 : log_normaliser(row, seq.num_classes, seq.input_class_stride);
        auto emit = [&](int64_t s) { return log_emission(seq, t, scratch.log_norm[t], s); };
        double *cur = scratch.delta + (t & 1) * states;
        uint8_t *moves = scratch.moves + t * states;
        for (int64_t s = 0; s < states; ++s) {
            if (t == 0) {  // initial conditions, as eq. (6)
                cur[s] = s < 2 ? emit(s) : kNegInf;
                moves[s] = 0;
                continue;
            }
            double best = prev[s];
            uint8_t move = 0;
            if (s >= 1 && better(prev[s - 1], best)) {
                best = prev[s - 1];
                move = 1;
            }
            if (label.can_skip_into(s) && better(prev[s - 2], best)) {
                best = prev[s - 2];
                move = 2;
            }
            cur[s] = emit(s) + best;
            moves[s] = move;
        }
        prev = cur;
    }
    // The path ends in the last label or in the final blank, eq. (8).
    *end_state = states - 1;
    if (states >= 2 && better(prev[states - 2], prev[states - 1])) *end_state = states - 2;
    return prev[*end_state];
}

// Reads the path back from end_state, filling the frame rows and the token
// spans; each token's frames are contiguous because the path never goes back.
template <typename Real>
void viterbi_backtrack(const Sequence<Real> &seq, const ViterbiScratch &scratch, int64_t end_state,
                       const AlignmentOut<Real> &out) {
    const int64_t states = seq.label.size();
    int64_t s = end_state;
    double probability_sum = 0.0;  // of the current token's frames
    for (int64_t t = seq.frames - 1; t >= 0; --t) {
        const double log_prob = log_emission(seq, t, scratch.log_norm[t], s);
        out.frame_states[t] = int32_t(s);
        out.frame_log_probs[t] = Real(log_prob);
        if (s & 1) {  // label j = (s - 1) / 2
            const int64_t j = s >> 1;
            if (t == seq.frames - 1 || out.frame_states[t + 1] != s) {
                out.token_ends[j] = t + 1;
                probability_sum = 0.0;
            }
            out.token_starts[j] = t;
            probability_sum += std::exp(log_prob);
            out.token_scores[j] = Real(probability_sum / double(out.token_ends[j] - t));
        }
        s -= scratch.moves[t * states + s];
    }
}

// Aligns one sequence; returns ln p(best path), or -inf / NaN with every
// output marked "no path" when there is none.
template <typename Real>
double forced_align_sequence(const Sequence<Real> &seq, const ViterbiScratch &scratch,
                             const AlignmentOut<Real> &out) {
    double score = kNegInf;
    int64_t end_state = 0;
    if (seq.frames == 0) {
        score = seq.label.label_length() == 0 ? 0.0 : kNegInf;  // the empty path
    } else if (seq.frames >= seq.label.min_frames()) {  // else: too few frames
        score = viterbi_forward(seq, scratch, &end_state);
    }
    if (score > kNegInf) {
        viterbi_backtrack(seq, scratch, end_state, out);
        return score;
    }
    for (int64_t t = 0; t < seq.frames; ++t) {
        out.frame_states[t] = -1;
        out.frame_log_probs[t] = Real(0);
    }
    for (int64_t j = 0; j < seq.label.label_length(); ++j) {
        out.token_starts[j] = out.token_ends[j] = -1;
        out.token_scores[j] = Real(NAN);
    }
    return score;
}

}  // namespace fastctc::FASTCTC_ISA
