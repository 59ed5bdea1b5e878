// The forward-backward lattice in log space: the exact number system.
//
// Notation as in forward_backward.hpp.  Rows hold ln alpha and ln beta (ours,
// without the emission at t); emissions are ln y^t_{l'_s}.  Sums of
// probabilities become ln(e^a + e^b + e^c) = m + ln(e^{a-m} + e^{b-m} + e^{c-m})
// with m = max(a, b, c), so nothing overflows or underflows however long or
// peaked the input: this path vouches for every result.  It costs two or three
// exponentials and a logarithm per state and frame (vectorised, see
// vector_math.hpp), several times the probability-space path, which is why it
// is the fallback.  A probability of zero is -inf and stays exact; NaN
// propagates.
#pragma once

#include <cmath>
#include <cstdint>

#include "frame.hpp"
#include "isa.hpp"
#include "lane_sum.hpp"
#include "lattice_check.hpp"
#include "sequence.hpp"
#include "vector_math.hpp"

namespace fastctc::FASTCTC_ISA {

inline constexpr double kNegInf = -INFINITY;  // ln 0

// ln(e^a + e^b) and ln(e^a + e^b + e^c), branch-free; -inf terms add nothing.
FASTCTC_ALWAYS_INLINE double log_add(double a, double b) {
    const double m = a > b ? a : b;
    const double shift = m == -INFINITY ? 0.0 : m;  // all terms -inf: avoid -inf - -inf
    return m + log_nonnegative(exp_nonpositive(a - shift) + exp_nonpositive(b - shift));
}

FASTCTC_ALWAYS_INLINE double log_add(double a, double b, double c) {
    const double ab = a > b ? a : b;
    const double m = ab > c ? ab : c;
    const double shift = m == -INFINITY ? 0.0 : m;
    return m + log_nonnegative((exp_nonpositive(a - shift) + exp_nonpositive(b - shift)) + exp_nonpositive(c - shift));
}

// Each row is shifted by the largest value of the row it is computed from, so
// that its values stay near 0 and carry rounding errors of order eps however
// large |ln p| grows.  (Unshifted, ln alpha and ln beta carry errors of order
// eps |ln p|, which do not cancel between states: 1e-10 in the gradient of a
// peaked input of 10,000 frames.)  The shifts cancel in the occupancies, which
// products() normalises frame by frame; a forward row keeps the sum of its
// shifts in its last slot, which log_end() adds back into ln p(l|x).
struct LogSpace {
    static constexpr bool kExact = true;
    static constexpr bool kClassTable = false;  // emissions are inputs, no exponentials to save

    static int64_t row_size(int64_t labels) { return 2 * labels + 2; }

    // The shift for the row computed from `row`: its largest value, or 0 when
    // that is not finite (no mass, or +inf).  NaN is never the largest.
    static double shift_from(const double *row, int64_t labels) {
        const double m = row_max(row, 2 * labels + 1, 1);
        return std::isfinite(m) ? m : 0.0;
    }

    // The sum of the shifts of a forward row and the rows before it.
    static double &offset(double *row, int64_t labels) { return row[2 * labels + 1]; }
    static double offset(const double *row, int64_t labels) { return row[2 * labels + 1]; }

    // Frame t's ln y, blank first, then each label position (no scale).
    template <typename Real>
    static double emissions(const Sequence<Real> &seq, int64_t t, double log_norm, double *e, RowCheck * /*check*/) {
        const Real *row = seq.input_row(t);
        const int64_t stride = seq.input_class_stride, labels = seq.label.label_length();
        const int32_t *label = seq.label.labels();
        e[0] = double(row[seq.label.blank() * stride]) - log_norm;
        for (int64_t j = 0; j < labels; ++j) e[1 + j] = double(row[label[j] * stride]) - log_norm;
        return 0.0;
    }

    static double emission_factor(double /*log_scale*/) { return 1.0; }
    static double probability(double e, double /*factor*/) { return std::exp(e); }

    // ln alpha_0: a path starts in the first blank or the first label (eq. (6)).
    static void forward_first(const double *e, int64_t labels, double *row, RowCheck * /*check*/) {
        for (int64_t s = 0; s < 2 * labels + 1; ++s) row[s] = -INFINITY;
        row[0] = e[0];
        if (labels > 0) row[labels + 1] = e[1];
        offset(row, labels) = 0.0;
    }

    // ln beta_{T-1}: a path ends in the last label or the final blank.
    static void backward_last(int64_t labels, double *row, RowCheck * /*check*/) {
        for (int64_t s = 0; s < 2 * labels + 1; ++s) row[s] = -INFINITY;
        row[labels] = 0.0;
        if (labels > 0) row[2 * labels] = 0.0;
    }

    // ln alpha_t from ln alpha_{t-1} (eqs. (6)-(7)), shifted; nothing underflows here.
    template <bool kExactness>
    static void forward_step(const double *prev, const double *e, const double *skip, int64_t labels, double *row,
                             RowCheck * /*check*/, const double * /*fetch*/ = nullptr) {
        const double *prev_blank = prev, *prev_label = prev + labels + 1;
        double *blank = row, *label = row + labels + 1;
        const double *e_label = e + 1;
        const double shift = shift_from(prev, labels);
        blank[0] = (e[0] + prev_blank[0]) - shift;
        for (int64_t j = 1; j <= labels; ++j) blank[j] = (e[0] + log_add(prev_blank[j], prev_label[j - 1])) - shift;
        if (labels > 0) label[0] = (e_label[0] + log_add(prev_label[0], prev_blank[0])) - shift;
        for (int64_t j = 1; j < labels; ++j)
            label[j] =
                (e_label[j] + log_add(prev_label[j], prev_blank[j], skip[j] != 0.0 ? prev_label[j - 1] : -INFINITY)) -
                shift;
        offset(row, labels) = offset(prev, labels) + shift;
    }

    // ln beta_t (ours, without the emission at t) from ln beta_{t+1} and the
    // emissions e of frame t + 1, shifted.
    static void backward_step(const double *next, const double *e, const double *skip, int64_t labels, double *row,
                              RowCheck * /*check*/, const double * /*fetch*/ = nullptr) {
        const double *next_blank = next, *next_label = next + labels + 1;
        double *blank = row, *label = row + labels + 1;
        const double e_blank = e[0];
        const double *e_label = e + 1;
        const double shift = shift_from(next, labels);
        for (int64_t j = 0; j < labels; ++j)
            blank[j] = log_add(e_blank + next_blank[j], e_label[j] + next_label[j]) - shift;
        blank[labels] = (e_blank + next_blank[labels]) - shift;
        for (int64_t j = 0; j + 1 < labels; ++j)
            label[j] = log_add(e_label[j] + next_label[j], e_blank + next_blank[j + 1],
                               skip[j + 1] != 0.0 ? e_label[j + 1] + next_label[j + 1] : -INFINITY) -
                       shift;
        if (labels > 0)
            label[labels - 1] =
                log_add(e_label[labels - 1] + next_label[labels - 1], e_blank + next_blank[labels]) - shift;
    }

    // ln p(l|x) from the last forward row (eq. (8)), its offset added back.
    static double log_end(const double *row, int64_t labels, RowCheck * /*check*/) {
        return (labels > 0 ? log_add(row[labels], row[2 * labels]) : row[0]) + offset(row, labels);
    }

    // products[s] = alpha_t(s) beta_t(s) / e^m, with m their largest logarithm,
    // and their sums (Z_t: at least 1 unless no state has any probability).
    static void products(const double *alpha, const double *beta, int64_t labels, double *out, ProductSums *sums,
                         const double * /*fetch*/ = nullptr) {
        const int64_t states = 2 * labels + 1;
        for (int64_t s = 0; s < states; ++s) out[s] = alpha[s] + beta[s];
        const double m = row_max(out, states, 1);
        const double shift = m == -INFINITY ? 0.0 : m;
        for (int64_t s = 0; s < states; ++s) out[s] = exp_nonpositive(out[s] - shift);
        *sums = {lane_sum(labels + 1, [&](int64_t j) { return out[j]; }),
                 lane_sum(labels, [&](int64_t j) { return out[labels + 1 + j]; }), true};
    }
};

}  // namespace fastctc::FASTCTC_ISA
