// Operations on one frame: a row of C inputs at a class stride.
//
// For logits u, the network output is the softmax y_k = e^{u_k} / sum_c e^{u_c}
// (Graves et al. 2006, eq. (1) feeds on y), and ln y_k = u_k - ln sum_c e^{u_c}.
// The log normaliser is computed in double after subtracting the row maximum,
// so no finite row overflows.  A NaN anywhere in the row makes it NaN, and so
// does a row without a finite maximum (all -inf, or any +inf): the softmax is
// undefined there and the sequence's result is NaN, never a made-up number.
#pragma once

#include <cmath>
#include <cstdint>

#include "log_space.hpp"

namespace fastctc {

// ln sum_c e^{row[c]}.
template <typename Real>
double log_normaliser(const Real *row, int64_t num_classes, int64_t class_stride) {
    double max = kNegInf;
    for (int64_t c = 0; c < num_classes; ++c) {
        const double v = row[c * class_stride];
        if (v > max) max = v;
    }
    double sum = 0.0;
    for (int64_t c = 0; c < num_classes; ++c) sum += std::exp(double(row[c * class_stride]) - max);
    return max + std::log(sum);
}

// out[c] = scale * e^{row[c] - log_norm}: the softmax, scaled.
template <typename Real>
void write_scaled_softmax(const Real *row, int64_t num_classes, int64_t class_stride,
                          double log_norm, double scale, Real *out, int64_t out_class_stride) {
    for (int64_t c = 0; c < num_classes; ++c)
        out[c * out_class_stride] = Real(scale * std::exp(double(row[c * class_stride]) - log_norm));
}

template <typename Real>
void write_zeros(int64_t num_classes, Real *out, int64_t out_class_stride) {
    for (int64_t c = 0; c < num_classes; ++c) out[c * out_class_stride] = Real(0);
}

}  // namespace fastctc
