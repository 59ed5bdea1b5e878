// The CTC forward-backward algorithm for one sequence, in either number system.
//
// Graves et al. 2006, Section 4.1, with 0-based frames t and states s (see
// extended_label.hpp); y^t_k is the probability of class k at frame t: the
// softmax of the logits, or e^{input} for log-scores.
//
// Forward variables, eqs. (5)-(7):
//     alpha_0(0) = y^0_b,  alpha_0(1) = y^0_{l_1},  alpha_0(s) = 0 otherwise;
//     alpha_t(s) = y^t_{l'_s} (alpha_{t-1}(s) + alpha_{t-1}(s-1)
//                              + [skip allowed] alpha_{t-1}(s-2));
//     p(l|x) = alpha_{T-1}(|l'|-1) + alpha_{T-1}(|l'|-2),              eq. (8).
// Backward variables: unlike the paper's beta (eqs. (9)-(11)), ours excludes
// the emission at frame t, beta_t(s) = beta^paper_t(s) / y^t_{l'_s}, so that
// alpha_t(s) beta_t(s) / p(l|x) (eqs. (14)-(15)) is the posterior occupancy of
// state s at frame t without dividing by y, which would be 0/0 for a class of
// probability zero (and, in probability space, would magnify underflow):
//     beta_{T-1}(|l'|-1) = beta_{T-1}(|l'|-2) = 1;
//     beta_t(s) = sum over s' in {s, s+1, s+2 if skip allowed into s+2}
//                 of y^{t+1}_{l'_{s'}} beta_{t+1}(s').
// Gradient, eq. (16): with occupancy(t, k) = sum_{s : l'_s = k} gamma_t(s),
//     d(-ln p) / d u^t_k      = y^t_k - occupancy(t, k)    (logits u)
//     d(-ln p) / d ln y^t_k   =       - occupancy(t, k)    (log-scores)
//
// A lattice row holds the |l| + 1 blank states 2j first, then the |l| label
// states 2j + 1 (then any scales the number system keeps), so each recursion is
// a contiguous, vectorisable loop over j.
// The number system (Space) is ProbabilitySpace (probability_space.hpp: fast,
// vouches for its results only when nothing can have underflowed) or LogSpace
// (log_space.hpp: exact).  The drivers below are written once for both, and
// run one sequence on one thread; shared_sequence.hpp shares one sequence
// between threads, performing the same operations in the same order, so every
// variant gives the same bits.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "frame.hpp"
#include "isa.hpp"
#include "lane_sum.hpp"
#include "lattice_check.hpp"
#include "scratch.hpp"
#include "sequence.hpp"

namespace fastctc::FASTCTC_ISA {

// What a lattice computation can vouch for (see the number systems).
struct LatticeResult {
    bool sound = true;             // every row finite and with mass
    bool exact = true;             // no forward value underflowed
    bool products_trusted = true;  // every frame's underflow bound holds
    bool certified = false;        // the loss alone's bounds were checked (certify_loss())
    double loss = 0.0;

    void take(const RowCheck &check) {
        sound = sound && check.sound;
        exact = exact && check.exact;
    }
    // The loss alone rests on the forward rows, unless it was certified; with the
    // backward rows too, the per-frame bounds cover whatever underflowed anywhere.
    bool trusted(bool with_grad) const { return sound && ((with_grad || certified) ? products_trusted : exact); }
};

// skip[j] = 1 where a path may go from label j - 1 straight to label j (eq. (6)).
inline void fill_skip(const ExtendedLabel &label, double *skip) {
    const int32_t *l = label.labels();
    for (int64_t j = 0; j < label.label_length(); ++j) skip[j] = (j > 0 && l[j] != l[j - 1]) ? 1.0 : 0.0;
}

// Whether frame_emissions() reads seq's frames through a table of its classes'
// exponentials: where the number system keeps one, for logits, when the
// sequence uses_class_table().
template <typename Space, typename Real>
bool reads_class_table(const Sequence<Real> &seq) {
    return Space::kClassTable && !seq.log_probs && uses_class_table(seq.num_classes, seq.label.label_length());
}

// Reads frame t, starting its gradient row (through the class table, or
// read_frame()), and stores its emissions in e; returns its log scale.
// buffers: the reading thread's.
template <typename Space, typename Real>
double frame_emissions(const Sequence<Real> &seq, int64_t t, double *e, const ThreadBuffers &buffers,
                       LatticeResult *result) {
    RowCheck check;
    const auto read = [&] {
        if constexpr (Space::kClassTable)
            if (reads_class_table<Space>(seq)) return Space::class_emissions(seq, t, buffers.class_exps, e, &check);
        return Space::emissions(seq, t, read_frame(seq, t, static_cast<Real *>(buffers.frame_exps)), e, &check);
    };
    const double log_scale = read();
    result->take(check);
    return log_scale;
}

// The forward recursion, one frame at a time, accumulating the emissions'
// log scales in frame order; ln p(l|x) = that sum + ln(end mass).  kExactness:
// check every value for underflow (what the loss alone rests on), up to the
// first frame where one did.  With forward_scales (the loss alone in
// probability space), from the first frame t whose row or frames are not exact
// on, row t - 1's scales are kept there as frame t's (Space::keep_scales()),
// for its certification (ProbabilitySpace::lost_exponent()).
template <typename Space, bool kExactness>
struct ForwardPass {
    const double *skip;
    int64_t labels;
    LatticeResult *result;
    double *forward_scales = nullptr;
    double scales = 0.0;         // sum_t log_scale_t
    double end = 0.0;            // ln of the last row's end mass (loss())
    int64_t first_inexact = -1;  // the first frame whose emissions or row is not exact, or -1

    // frames_exact: whether frames [0, t] are, where result does not take them;
    // fetch: frame t + 1's emissions, or null (Space::forward_step()).
    void frame(int64_t t, const double *prev, const double *e, double log_scale, double *row,
               bool frames_exact = true, const double *fetch = nullptr) {
        RowCheck check;
        if (t == 0)
            Space::forward_first(e, labels, row, &check);
        else if (kExactness && result->exact)
            Space::template forward_step<true>(prev, e, skip, labels, row, &check, fetch);
        else  // once a row is not exact, whether a later one is changes nothing
            Space::template forward_step<false>(prev, e, skip, labels, row, &check, fetch);
        scales += log_scale;
        result->take(check);
        if (first_inexact < 0 && !(result->exact && frames_exact)) first_inexact = t;
        if constexpr (!Space::kExact) {
            if (forward_scales && first_inexact >= 0 && t > 0) Space::keep_scales(prev, labels, forward_scales, t);
        }
    }

    double loss(const double *last_row) {
        RowCheck check;
        end = Space::log_end(last_row, labels, &check);
        result->take(check);
        return -(scales + end);
    }
};

// The backward recursion into row t, from row t + 1 and the emissions e_next of
// frame t + 1 (neither for the last frame); fetch: frame t's emissions, to be
// brought into the cache for the next step (ProbabilitySpace::backward_step()).
// kUpperBound: an upper bound of beta_t instead, for the loss alone's
// certification (probability space only).
template <typename Space, bool kUpperBound = false>
void backward_frame(int64_t t, int64_t frames, const double *next, const double *e_next, const double *skip,
                    int64_t labels, double *row, LatticeResult *result, const double *fetch = nullptr) {
    RowCheck check;
    if (t == frames - 1)
        Space::backward_last(labels, row, &check);
    else if constexpr (kUpperBound)
        Space::template backward_step<1, true>(next, e_next, skip, labels, row, &check, fetch);
    else
        Space::backward_step(next, e_next, skip, labels, row, &check, fetch);
    result->sound = result->sound && check.sound;
}

// What frame t's forward row can have lost (ProbabilitySpace::lost_exponent()),
// from the scales the forward pass kept (ForwardPass) and those of the upper
// bound of beta_t.
template <typename Space>
double lost_exponent_of_frame(int64_t t, const double *forward_scales, const double *beta_scales, int64_t labels) {
    const double *before = t > 0 ? Space::kept_scales(forward_scales, labels, t) : nullptr;
    return Space::lost_exponent(before, beta_scales, labels);
}

// A frame's state products, as a lattice row holds states: blank state j at
// blank[j * stride], label state j at label[j * stride] (stride: 1 for one
// sequence, the group size for a group's lanes), with their sums.
struct StateProducts {
    const double *blank;
    const double *label;
    int64_t stride;
    ProductSums sums;
};

// The state occupancy row of frame t in the order of l' (blank 2j, label 2j + 1);
// states past |l'| get 0.
template <typename Real>
void write_state_occupancy(const Sequence<Real> &seq, int64_t t, const StateProducts &p, double inverse_z) {
    const int64_t labels = seq.label.label_length();
    Real *row = seq.state_row(t);
    for (int64_t j = 0; j <= labels; ++j) row[2 * j * seq.state_stride] = Real(p.blank[j * p.stride] * inverse_z);
    for (int64_t j = 0; j < labels; ++j)
        row[(2 * j + 1) * seq.state_stride] = Real(p.label[j * p.stride] * inverse_z);
    for (int64_t s = 2 * labels + 1; s < seq.num_states; ++s) row[s * seq.state_stride] = Real(0);
}

// Finishes frame t's gradient row, which frame_emissions() initialised, from
// its trusted state products and its emissions (entry k at e[k * p.stride], as
// the products' states: the offsets of slots): each class k of the label gets
// scale * (y^t_k - occupancy(t, k)) for logits and -scale * occupancy(t, k) for
// log-scores (eq. (16)), computed in double and rounded once; for the
// posteriors, occupancy(t, k) itself, and each state's occupancy gamma_t(s) in
// the order of l'.  by_slot: [K] doubles.
template <typename Space, typename Real>
void write_grad_row(const Sequence<Real> &seq, int64_t t, const StateProducts &p, const double *e, double log_scale,
                    const LabelSlots &slots, double *by_slot) {
    const double inverse_z = 1.0 / (p.sums.blanks + p.sums.labels);  // gamma_t(s) = products[s] / Z_t
    // Each label slot starts from its class's first label position, and the
    // positions that repeat a class add theirs in order.  (Label state j lies
    // at the offset of emission 1 + j from p.label - p.stride.)  The loops over
    // slots are unrolled by four: a slot is a handful of instructions, and its
    // loop's own counting and branch were a quarter of them (3% of the
    // instructions of T=150 N=32 C=28 L=40 and T=5000 N=1 with the gradient).
    // By eight it took more on short labels, which leave a longer remainder.
    by_slot[0] = p.sums.blanks * inverse_z;
    const double *label_by_emission = p.label - p.stride;
#pragma GCC unroll 4
    for (int64_t k = 1; k < slots.count; ++k) by_slot[k] = label_by_emission[slots.source[k]] * inverse_z;
#pragma GCC unroll 4
    for (int64_t r = 0; r < slots.repeat_count; ++r)
        by_slot[slots.repeat_slots[r]] += p.label[slots.repeats[r]] * inverse_z;

    Real *grad_row = seq.grad_row(t);
    if (seq.occupancy) {
        for (int64_t k = 0; k < slots.count; ++k) grad_row[slots.klass[k] * seq.grad_class_stride] = Real(by_slot[k]);
        if (seq.state_occupancy) write_state_occupancy(seq, t, p, inverse_z);
        return;
    }
    const double factor = Space::emission_factor(log_scale);
#pragma GCC unroll 4
    for (int64_t k = 0; k < slots.count; ++k) {
        const double y = seq.log_probs ? 0.0 : Space::probability(e[slots.source[k]], factor);
        grad_row[slots.klass[k] * seq.grad_class_stride] = Real(seq.grad_scale * (y - by_slot[k]));
    }
}

// Finishes frame t's gradient row from its lattice rows, if the number system
// vouches for their products; fetch: the kept row of the frame finished next, or
// null (ProbabilitySpace::products()).
template <typename Space, typename Real>
void finish_grad_row(const Sequence<Real> &seq, int64_t t, const double *alpha, const double *beta, const double *e,
                     double log_scale, const LabelSlots &slots, const ThreadBuffers &buffers, LatticeResult *result,
                     const double *fetch = nullptr) {
    const int64_t labels = seq.label.label_length();
    ProductSums sums;
    Space::products(alpha, beta, labels, buffers.products, &sums, fetch);
    if (!sums.trusted) {
        result->products_trusted = false;
        return;
    }
    const StateProducts products{buffers.products, buffers.products + labels + 1, 1, sums};
    write_grad_row<Space>(seq, t, products, e, log_scale, slots, buffers.by_slot);
}

// Vouches for the loss alone of a sequence whose forward rows lost values to
// underflow (sound but not exact) from frame `first` on (the frames before it
// lost nothing), by what they can have lost (ProbabilitySpace::lost_exponent()):
// the upper bound of the backward recursion runs down from the last frame to
// `first` in two rolling rows (scratch.beta), the frames read again into two
// rolling emissions (scratch.emissions), and each frame's exponent is taken with
// the scales the forward pass kept.  end: ln of the forward rows' end mass
// (ForwardPass::end).  The loss itself is the forward pass's, unchanged.
template <typename Space, typename Real>
void certify_loss(const Sequence<Real> &seq, const LatticeScratch &scratch, const ThreadBuffers &buffers,
                  int64_t first, double end, LatticeResult *result) {
    const int64_t frames = seq.frames, labels = seq.label.label_length(), row_size = Space::row_size(labels);
    auto beta = [&](int64_t t) { return scratch.beta + (t & 1) * row_size; };
    auto e = [&](int64_t t) { return scratch.emissions + (t & 1) * (labels + 1); };
    LatticeResult bound, reread;  // the frames were checked the first time
    double top = -INFINITY;
    for (int64_t t = frames - 1; t >= first && bound.sound; --t) {
        backward_frame<Space, true>(t, frames, beta(t + 1), e(t + 1), scratch.skip, labels, beta(t), &bound);
        const double exponent =
            lost_exponent_of_frame<Space>(t, scratch.forward_scales, Space::scales_of(beta(t), labels), labels);
        top = exponent > top ? exponent : top;
        if (t > first) frame_emissions<Space>(seq, t, e(t), buffers, &reread);  // for frame t - 1
    }
    result->products_trusted = bound.sound && Space::lost_within_share(top, frames - first, labels, end);
    result->certified = true;
}

// The loss alone, on one thread: the forward recursion in two rolling rows.
template <typename Space, typename Real>
LatticeResult lattice_loss(const Sequence<Real> &seq, const LatticeScratch &scratch, const ThreadBuffers &buffers) {
    const int64_t labels = seq.label.label_length(), row_size = Space::row_size(labels);
    LatticeResult result;
    fill_skip(seq.label, scratch.skip);
    ForwardPass<Space, true> forward{scratch.skip, labels, &result, scratch.forward_scales};
    double *row = scratch.alpha;
    for (int64_t t = 0; t < seq.frames; ++t) {
        const double log_scale = frame_emissions<Space>(seq, t, scratch.emissions, buffers, &result);
        const double *prev = row;
        row = scratch.alpha + (t & 1) * row_size;
        forward.frame(t, prev, scratch.emissions, log_scale, row);
    }
    result.loss = forward.loss(row);
    if constexpr (!Space::kExact)
        if (result.sound && !result.exact)
            certify_loss<Space>(seq, scratch, buffers, forward.first_inexact, forward.end, &result);
    return result;
}

// The loss and the gradient rows [0, T_n), on one thread: the forward rows are
// kept, the backward ones roll.
template <typename Space, typename Real>
LatticeResult lattice_loss_and_grad(const Sequence<Real> &seq, const LatticeScratch &scratch,
                                    const ThreadBuffers &buffers) {
    const int64_t frames = seq.frames, labels = seq.label.label_length(), row_size = Space::row_size(labels);
    LatticeResult result;
    fill_skip(seq.label, scratch.skip);
    ForwardPass<Space, false> forward{scratch.skip, labels, &result};
    auto e = [&](int64_t t) { return scratch.emissions_of(t, labels); };
    auto alpha = [&](int64_t t) { return scratch.alpha_row(t, row_size); };
    auto beta = [&](int64_t t) { return scratch.beta + (t & 1) * row_size; };

    for (int64_t t = 0; t < frames; ++t) {
        scratch.log_scale[t] = frame_emissions<Space>(seq, t, e(t), buffers, &result);
        forward.frame(t, alpha(t - 1), e(t), scratch.log_scale[t], alpha(t));
    }
    result.loss = forward.loss(alpha(frames - 1));
    if (Space::kExact && result.loss == INFINITY) return result;  // no alignment has any probability
    for (int64_t t = frames - 1; t >= 0 && result.trusted(true); --t) {
        backward_frame<Space>(t, frames, beta(t + 1), t + 1 < frames ? e(t + 1) : nullptr, scratch.skip, labels,
                              beta(t), &result, e(t));
        finish_grad_row<Space>(seq, t, alpha(t), beta(t), e(t), scratch.log_scale[t], scratch.slots, buffers,
                               &result, t > 0 ? alpha(t - 1) : nullptr);
    }
    return result;
}

}  // namespace fastctc::FASTCTC_ISA
