// A libFuzzer harness of the C API, cpp/include/fastctc/ctc.h.
//
// Each input decodes to one of two things:
//  - a compute call: a batch of up to 6 sequences of up to 24 frames and 8
//    classes, float or double, with inputs and gradient each in a memory
//    arrangement of its own (any axis order, gaps, negative strides), values
//    from moderate to +-inf and NaN, any lengths, labels, blank and options,
//    sometimes one argument made invalid on purpose or the workspace made short
//    or misaligned;
//  - a workspace query with sizes up to INT64_MAX.
// Built with AddressSanitizer and UBSan (.ci/fuzz), and with every array
// allocated at its exact extent, any access outside an array, any signed
// overflow and any misaligned access stops the run. On top of that, the harness
// checks what the header promises:
//  - the status: INVALID_VALUE exactly when something invalid was passed,
//    WORKSPACE_TOO_SMALL for a short workspace, SUCCESS otherwise; a query with
//    valid arguments succeeds or reports SIZE_OVERFLOW;
//  - a call that fails writes nothing;
//  - impossible sequences get +inf (0 with zero_infinity) and a zero gradient;
//    frames past an input length get exact zeros;
//  - a sequence with moderate finite inputs gets a loss that is not NaN (and not
//    negative for logits), and gradient rows that sum to 0 (logits) or to
//    -scale (log-scores), whatever the other sequences hold;
//  - the loss alone equals the loss with the gradient (to rounding: 4 eps
//    times the size of the terms the loss sums, see loss_scale()), and one
//    thread gives the same bits as three.
#include <fastctc/ctc.h>
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

namespace {

void expect(bool holds, const char *promise) {
    if (holds) return;
    std::fprintf(stderr, "fastctc broke a promise of its C API: %s\n", promise);
    std::abort();
}

// A (T, N, C) array in a fuzzer-chosen arrangement, allocated at its exact
// extent so that AddressSanitizer sees any access outside it.
template <typename Real>
class StridedArray {
public:
    StridedArray(FuzzedDataProvider &fdp, std::array<int64_t, 3> shape) {
        std::array<int, 3> order = {0, 1, 2};  // axes from outermost to innermost
        for (int k = fdp.ConsumeIntegralInRange(0, 5); k > 0; --k) std::next_permutation(order.begin(), order.end());
        int64_t stride = fdp.ConsumeIntegralInRange<int64_t>(1, 2);  // 2: a gap between elements
        for (int i = 2; i >= 0; --i) {
            strides_[order[i]] = stride;
            stride *= std::max<int64_t>(shape[order[i]], 1);
        }
        int64_t low = 0, high = 0;
        for (int axis = 0; axis < 3; ++axis) {
            if (fdp.ConsumeBool()) strides_[axis] = -strides_[axis];
            const int64_t span = (std::max<int64_t>(shape[axis], 1) - 1) * strides_[axis];
            (span < 0 ? low : high) += span;
        }
        if (shape[0] * shape[1] * shape[2] == 0) return;  // no elements: a null origin
        size_ = size_t(high - low + 1);
        storage_.reset(new Real[size_]);
        origin_ = storage_.get() - low;
    }

    Real *origin() const { return origin_; }
    const int64_t *strides() const { return strides_.data(); }
    Real &at(int64_t t, int64_t n, int64_t c) const {
        return origin_[t * strides_[0] + n * strides_[1] + c * strides_[2]];
    }
    void fill(Real value) const { std::fill(storage_.get(), storage_.get() + size_, value); }
    bool all_equal(Real value) const {
        return std::all_of(storage_.get(), storage_.get() + size_, [&](Real v) { return v == value; });
    }
    // Whether every slot of the storage that is not an element (the gaps) holds value.
    bool gaps_hold(Real value, std::array<int64_t, 3> shape) const {
        std::vector<bool> element(size_, false);
        for (int64_t t = 0; t < shape[0]; ++t)
            for (int64_t n = 0; n < shape[1]; ++n)
                for (int64_t c = 0; c < shape[2]; ++c) element[&at(t, n, c) - storage_.get()] = true;
        for (size_t i = 0; i < size_; ++i)
            if (!element[i] && !(storage_[i] == value)) return false;
        return true;
    }
    std::vector<unsigned char> bits() const {
        const auto *bytes = reinterpret_cast<const unsigned char *>(storage_.get());
        return std::vector<unsigned char>(bytes, bytes + size_ * sizeof(Real));
    }

private:
    std::array<int64_t, 3> strides_ = {0, 0, 0};
    std::unique_ptr<Real[]> storage_;
    size_t size_ = 0;
    Real *origin_ = nullptr;
};

// What one input byte becomes: mostly moderate values, sometimes the extremes.
double decode_value(uint8_t byte) {
    static const double special[] = {
        -INFINITY, INFINITY, NAN, 1e30, -1e30, 0.0, -0.0, 1e-300, 700.0, -700.0, 88.0, -88.0,
    };
    constexpr int kSpecial = sizeof(special) / sizeof(special[0]);
    return byte < 256 - kSpecial ? (byte - 122) / 8.0 : special[byte - (256 - kSpecial)];
}

// Equal, or both NaN, or within 4 eps times `scale`, the size of the terms
// that a and b were summed from.
template <typename Real>
bool close(Real a, Real b, double scale) {
    if (a == b || (std::isnan(a) && std::isnan(b))) return true;
    if (!std::isfinite(a) || !std::isfinite(b)) return false;
    return std::fabs(double(a) - double(b)) <= 4 * std::numeric_limits<Real>::epsilon() * scale;
}

// The fewest frames a label needs: one per label, and a blank between repeats.
int64_t min_frames(const int32_t *label, int64_t length) {
    int64_t frames = length;
    for (int64_t j = 1; j < length; ++j) frames += label[j] == label[j - 1];
    return frames;
}

template <typename Real>
fastctc_status compute(const fastctc_batch &batch, const fastctc_options &options, const Real *inputs,
                       const int64_t *input_strides, Real *losses, Real *grad, const int64_t *grad_strides,
                       const Real *grad_scale, void *workspace, size_t workspace_bytes) {
    if constexpr (sizeof(Real) == sizeof(float))
        return fastctc_ctc_loss_f32(&batch, &options, inputs, input_strides, losses, grad, grad_strides,
                                    grad_scale, workspace, workspace_bytes);
    else
        return fastctc_ctc_loss_f64(&batch, &options, inputs, input_strides, losses, grad, grad_strides,
                                    grad_scale, workspace, workspace_bytes);
}

// One argument made invalid on purpose.
enum Corruption {
    kNegativeInputLength, kInputLengthPastT, kNegativeLabelLength, kLabelOutOfRange, kLabelIsBlank,
    kBlankOutOfRange, kTooManyClasses, kNullLabels, kNullInputs, kNullLosses, kNullLengths, kNoCorruption
};

template <typename Real>
class ComputeCase {
public:
    explicit ComputeCase(FuzzedDataProvider &fdp)
        : T_(fdp.ConsumeIntegralInRange<int64_t>(0, 24)),
          N_(fdp.ConsumeIntegralInRange<int64_t>(0, 6)),
          C_(fdp.ConsumeIntegralInRange<int64_t>(1, 8)),
          inputs_(fdp, {T_, N_, C_}),
          grad_(fdp, {T_, N_, C_}) {
        options_.blank = fdp.ConsumeIntegralInRange<int32_t>(0, int32_t(C_ - 1));
        options_.log_probs = fdp.ConsumeBool();
        options_.zero_infinity = fdp.ConsumeBool();
        with_grad_ = fdp.ConsumeBool();
        for (int64_t n = 0; n < N_; ++n) {
            input_lengths_.push_back(fdp.ConsumeIntegralInRange<int64_t>(0, T_));
            label_lengths_.push_back(C_ > 1 ? fdp.ConsumeIntegralInRange<int64_t>(0, T_ + 1) : 0);
            for (int64_t j = 0; j < label_lengths_.back(); ++j) {
                const int32_t label = fdp.ConsumeIntegralInRange<int32_t>(0, int32_t(C_ - 2));
                labels_.push_back(label >= options_.blank ? label + 1 : label);  // never the blank
            }
        }
        for (int64_t t = 0; t < T_; ++t)
            for (int64_t n = 0; n < N_; ++n)
                for (int64_t c = 0; c < C_; ++c)
                    inputs_.at(t, n, c) = Real(decode_value(fdp.ConsumeIntegral<uint8_t>()));
        if (with_grad_ && fdp.ConsumeBool())
            for (int64_t n = 0; n < N_; ++n) grad_scale_.push_back(Real(fdp.ConsumeIntegralInRange(-4, 4) * 0.5));
        losses_.resize(N_);
        options_.num_threads = fdp.ConsumeIntegralInRange<int32_t>(-1, 4);
    }

    void run(FuzzedDataProvider &fdp) {
        fastctc_batch batch{T_, N_, C_, input_lengths_.data(), label_lengths_.data(), labels_.data()};
        if (labels_.empty()) batch.labels = nullptr;
        fastctc_options options = options_;
        const Real *inputs = inputs_.origin();
        Real *losses = losses_.data();
        // visible: whether the workspace query, which reads no labels or arrays, sees it.
        bool invalid = true, visible = true;
        const int corruption = fdp.ConsumeIntegralInRange<int>(0, 2 * kNoCorruption);  // half: none
        const int64_t n = N_ ? fdp.ConsumeIntegralInRange<int64_t>(0, N_ - 1) : 0;
        const size_t j = labels_.empty() ? 0 : fdp.ConsumeIntegralInRange<size_t>(0, labels_.size() - 1);
        switch (corruption) {
            case kNegativeInputLength: invalid = N_ > 0; if (invalid) input_lengths_[n] = -1; break;
            case kInputLengthPastT: invalid = N_ > 0; if (invalid) input_lengths_[n] = T_ + 1; break;
            case kNegativeLabelLength: invalid = N_ > 0; if (invalid) label_lengths_[n] = -1; break;
            case kLabelOutOfRange:
                invalid = !labels_.empty(), visible = false;
                if (invalid) labels_[j] = int32_t(C_);
                break;
            case kLabelIsBlank:
                invalid = !labels_.empty(), visible = false;
                if (invalid) labels_[j] = options.blank;
                break;
            case kBlankOutOfRange: options.blank = fdp.ConsumeBool() ? -1 : int32_t(C_); break;
            case kTooManyClasses: batch.num_classes = int64_t(INT32_MAX) + 1; break;
            case kNullLabels: invalid = !labels_.empty(); batch.labels = nullptr; visible = false; break;
            case kNullInputs: invalid = T_ > 0 && N_ > 0; inputs = nullptr; visible = false; break;
            case kNullLosses: invalid = N_ > 0; losses = nullptr; visible = false; break;
            case kNullLengths: invalid = N_ > 0; if (invalid) batch.input_lengths = nullptr; break;
            default: invalid = false;  // most inputs break nothing
        }

        size_t bytes = 0;
        const fastctc_status query = fastctc_workspace_size(&batch, &options, grad() != nullptr, &bytes);
        expect(query == (invalid && visible ? FASTCTC_STATUS_INVALID_VALUE : FASTCTC_STATUS_SUCCESS),
               "the workspace query reports INVALID_VALUE exactly for invalid sizes, lengths and options");
        // Short by a byte; an empty batch has nothing to compute and needs none.
        const bool short_workspace = !invalid && N_ > 0 && fdp.ConsumeBool();
        const size_t offset = fdp.ConsumeIntegralInRange<size_t>(0, 63);  // any alignment
        const size_t given = short_workspace ? bytes - 1 : bytes;
        std::unique_ptr<unsigned char[]> workspace(new unsigned char[offset + given]);

        const Real sentinel = Real(12345.0);
        grad_.fill(sentinel);
        std::fill(losses_.begin(), losses_.end(), sentinel);
        const fastctc_status status =
            compute<Real>(batch, options, inputs, inputs_.strides(), losses, grad(), grad_.strides(), scale(),
                          workspace.get() + offset, given);
        expect(status == (invalid           ? FASTCTC_STATUS_INVALID_VALUE
                          : short_workspace ? FASTCTC_STATUS_WORKSPACE_TOO_SMALL
                                            : FASTCTC_STATUS_SUCCESS),
               "a compute call reports exactly what is wrong with its arguments");
        if (status != FASTCTC_STATUS_SUCCESS) {
            expect(std::all_of(losses_.begin(), losses_.end(), [&](Real v) { return v == sentinel; }) &&
                       grad_.all_equal(sentinel),
                   "a failed call writes nothing");
            return;
        }
        expect(grad_.gaps_hold(sentinel, {T_, N_, C_}), "nothing is written between gradient elements");
        check_results();
        check_reruns_agree();
    }

private:
    Real *grad() const { return with_grad_ ? grad_.origin() : nullptr; }  // null without elements too
    const Real *scale() const { return grad_scale_.empty() ? nullptr : grad_scale_.data(); }
    double scale_of(int64_t n) const { return grad_scale_.empty() ? 1.0 : double(grad_scale_[n]); }

    // Whether sequence n reads only moderate values (and, as log-scores, -inf).
    bool clean(int64_t n) const {
        for (int64_t t = 0; t < input_lengths_[n]; ++t)
            for (int64_t c = 0; c < C_; ++c) {
                const double v = inputs_.at(t, n, c);
                const bool moderate = std::isfinite(v) && std::fabs(v) <= 100.0;
                if (!moderate && !(options_.log_probs && v == -INFINITY)) return false;
            }
        return true;
    }

    bool zero_rows(int64_t n, int64_t first, int64_t last) const {
        for (int64_t t = first; t < last; ++t)
            for (int64_t c = 0; c < C_; ++c)
                if (grad_.at(t, n, c) != Real(0)) return false;
        return true;
    }

    void check_results() const {
        int64_t offset = 0;
        for (int64_t n = 0; n < N_; offset += label_lengths_[n], ++n) {
            const double loss = losses_[n];
            const int64_t frames = input_lengths_[n];
            const bool impossible = frames < min_frames(labels_.data() + offset, label_lengths_[n]);
            if (impossible) expect(loss == (options_.zero_infinity ? 0.0 : INFINITY), "impossible: +inf, or 0");
            if (options_.zero_infinity) expect(loss != INFINITY, "zero_infinity: never +inf");
            if (with_grad_) expect(zero_rows(n, frames, T_), "frames past an input length get exact zeros");
            if (with_grad_ && (impossible || loss == INFINITY))
                expect(zero_rows(n, 0, frames), "a sequence of probability 0 gets a zero gradient");
            if (impossible || !clean(n)) continue;
            expect(!std::isnan(loss), "moderate inputs give a loss that is not NaN");
            if (!options_.log_probs) expect(std::isfinite(loss) && loss > -1e-5, "a logit loss is -ln p >= 0");
            // With zero_infinity, a loss of 0 may stand for probability 0 and a zero gradient.
            if (!with_grad_ || !std::isfinite(loss) || (options_.zero_infinity && loss == 0.0)) continue;
            const double scale = scale_of(n);
            const double tolerance = (sizeof(Real) == sizeof(float) ? 1e-5 : 1e-9) * std::fabs(scale) + 1e-30;
            for (int64_t t = 0; t < frames; ++t) {
                double sum = 0.0;
                for (int64_t c = 0; c < C_; ++c) sum += double(grad_.at(t, n, c));
                expect(std::fabs(sum - (options_.log_probs ? -scale : 0.0)) <= tolerance,
                       "gradient rows sum to 0 (logits) or -scale (log-scores)");
            }
        }
    }

    // The size of the terms loss n is a sum of: |loss| and, for each of its
    // frames, a bound on its emissions, 2 max_c |x_c| + ln C over the finite
    // inputs.  (Huge inputs make it huge, rightly: unnormalised log-scores of
    // +1e30 and -1e30 on one path cancel, and what they swallowed is lost.)
    double loss_scale(int64_t n) const {
        double scale = std::fabs(double(losses_[n]));
        for (int64_t t = 0; t < input_lengths_[n]; ++t) {
            double largest = 0.0;
            for (int64_t c = 0; c < C_; ++c) {
                const double x = std::fabs(double(inputs_.at(t, n, c)));
                if (std::isfinite(x) && x > largest) largest = x;
            }
            scale += 2 * largest + std::log(double(C_));
        }
        return scale;
    }

    // The loss alone, and other thread counts, give the same bits.
    void check_reruns_agree() {
        const std::vector<Real> losses = losses_;
        const std::vector<unsigned char> grad_bits = grad_.bits();
        const fastctc_options first = options_;
        const auto rerun = [&](int32_t threads, bool with_grad) {
            fastctc_options options = first;
            options.num_threads = threads;
            const fastctc_batch batch{T_, N_, C_, input_lengths_.data(), label_lengths_.data(),
                                      labels_.empty() ? nullptr : labels_.data()};
            size_t bytes = 0;
            Real *grad = with_grad ? this->grad() : nullptr;
            expect(fastctc_workspace_size(&batch, &options, grad != nullptr, &bytes) == FASTCTC_STATUS_SUCCESS,
                   "the workspace query succeeds for arguments a call accepted");
            std::unique_ptr<unsigned char[]> workspace(new unsigned char[bytes]);
            const fastctc_status status =
                compute<Real>(batch, options, inputs_.origin(), inputs_.strides(), losses_.data(), grad,
                              grad_.strides(), scale(), workspace.get(), bytes);
            expect(status == FASTCTC_STATUS_SUCCESS, "a call succeeds again with another thread count");
            if (with_grad == with_grad_)
                expect(losses.empty() || std::memcmp(losses.data(), losses_.data(), losses.size() * sizeof(Real)) == 0,
                       "the same losses, bit for bit, for any thread count");
            else  // the two paths are certified differently by design (RELIABILITY.md): to rounding
                for (size_t k = 0; k < losses.size(); ++k)
                    expect(close(losses[k], losses_[k], loss_scale(int64_t(k))),
                           "the loss alone equals the loss with the gradient to rounding");
            if (with_grad) expect(grad_.bits() == grad_bits, "the same gradient, bit for bit, for any thread count");
        };
        rerun(first.num_threads, /*with_grad=*/false);
        rerun(1, with_grad_);
        rerun(3, with_grad_);
    }

    int64_t T_, N_, C_;
    StridedArray<Real> inputs_, grad_;
    fastctc_options options_{};
    bool with_grad_ = false;
    std::vector<int64_t> input_lengths_, label_lengths_;
    std::vector<int32_t> labels_;
    std::vector<Real> grad_scale_, losses_;
};

// A workspace query with sizes anywhere up to INT64_MAX: no overflow goes unseen.
void fuzz_query(FuzzedDataProvider &fdp) {
    const int64_t T = fdp.ConsumeIntegralInRange<int64_t>(0, std::numeric_limits<int64_t>::max());
    const int64_t N = fdp.ConsumeIntegralInRange<int64_t>(1, 4);
    std::vector<int64_t> input_lengths, label_lengths;
    for (int64_t n = 0; n < N; ++n) {
        input_lengths.push_back(fdp.ConsumeIntegralInRange<int64_t>(0, T));
        label_lengths.push_back(fdp.ConsumeIntegralInRange<int64_t>(0, std::numeric_limits<int64_t>::max()));
    }
    const fastctc_batch batch{T, N, fdp.ConsumeIntegralInRange<int64_t>(1, INT32_MAX), input_lengths.data(),
                              label_lengths.data(), nullptr};
    fastctc_options options{};
    options.num_threads = fdp.ConsumeIntegral<int32_t>();
    const int with_grad = fdp.ConsumeBool();
    size_t bytes = 0, again = 0;
    const fastctc_status status = fastctc_workspace_size(&batch, &options, with_grad, &bytes);
    expect(status == FASTCTC_STATUS_SUCCESS || status == FASTCTC_STATUS_SIZE_OVERFLOW,
           "a valid query gives a size or SIZE_OVERFLOW");
    expect(fastctc_workspace_size(&batch, &options, with_grad, &again) == status && again == bytes,
           "the same query gives the same answer");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider fdp(data, size);
    switch (fdp.ConsumeIntegralInRange(0, 2)) {
        case 0: ComputeCase<float>(fdp).run(fdp); break;
        case 1: ComputeCase<double>(fdp).run(fdp); break;
        default: fuzz_query(fdp);
    }
    return 0;
}
