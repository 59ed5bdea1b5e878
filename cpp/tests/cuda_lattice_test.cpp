// Host test of the CUDA unit's per-state lattice functions (cpp/src/cuda/lattice.hpp,
// cpp/src/cuda/probability_lattice.hpp) and its workspace plan, compiled by the
// host compiler: no GPU needed.
//
// It drives the lattice functions frame by frame in the order the kernels do
// (forward rows, backward rows, gradient rows from each frame's normaliser,
// the blank sum and the class chains), in log space and in probability space
// with group scales and the certificate, and checks losses and gradients
// against the C++ core's C API on seeded random problems.  What it
// cannot check is the kernels' thread and memory orchestration; the GPU tests
// in tests/test_cuda.py do that on a machine with a GPU.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "../src/cuda/device_workspace.hpp"
#include "../src/cuda/lattice.hpp"
#include "../src/cuda/probability_lattice.hpp"
#include "../src/frame.hpp"
#include "fastctc/ctc.h"

namespace {

int failures = 0;
int64_t trusted_sequences = 0;  // those the probability-space path vouched for

void check(bool ok, const char *what, int problem) {
    if (!ok) {
        ++failures;
        std::fprintf(stderr, "FAIL (problem %d): %s\n", problem, what);
    }
}

bool close(double got, double want, double rtol, double atol) {
    if (std::isnan(want)) return std::isnan(got);
    if (std::isinf(want)) return got == want;
    return std::fabs(got - want) <= atol + rtol * std::fabs(want);
}

struct Problem {
    int64_t frames, batch, classes;
    int32_t blank;
    bool log_probs;
    std::vector<double> inputs;  // (T, N, C), row-major
    std::vector<int64_t> input_lengths, label_lengths;
    std::vector<int32_t> labels;  // concatenated
};

Problem random_problem(std::mt19937_64 &rng) {
    Problem p;
    p.frames = std::uniform_int_distribution<int64_t>(0, 24)(rng);
    p.batch = std::uniform_int_distribution<int64_t>(1, 5)(rng);
    p.classes = std::uniform_int_distribution<int64_t>(2, 7)(rng);
    p.blank = int32_t(std::uniform_int_distribution<int64_t>(0, p.classes - 1)(rng));
    p.log_probs = std::bernoulli_distribution(0.5)(rng);
    std::normal_distribution<double> normal(0.0, 2.0);
    std::bernoulli_distribution zero_probability(0.05);
    p.inputs.resize(size_t(p.frames * p.batch * p.classes));
    for (double &v : p.inputs) v = p.log_probs && zero_probability(rng) ? -INFINITY : normal(rng);
    std::uniform_int_distribution<int32_t> label_class(0, int32_t(p.classes - 2));
    for (int64_t n = 0; n < p.batch; ++n) {
        p.input_lengths.push_back(std::uniform_int_distribution<int64_t>(0, p.frames)(rng));
        // Some labels longer than their input can hold: impossible alignments.
        const int64_t length = std::uniform_int_distribution<int64_t>(0, p.frames / 2 + 2)(rng);
        p.label_lengths.push_back(length);
        for (int64_t j = 0; j < length; ++j) {
            const int32_t k = label_class(rng);  // skip the blank
            p.labels.push_back(k >= p.blank ? k + 1 : k);
        }
    }
    return p;
}

// The gradient kernel's work on row (t, n), from the frame's scaled products
// alpha_t(s) beta_t(s) / const; returns their sum z_t.
template <typename Product>
double gradient_row(const Problem &p, int64_t n, int64_t t, const fastctc::lattice::ExtendedLabel &label,
                    double log_norm, double *grad, Product product) {
    const double *input = p.inputs.data() + (t * p.batch + n) * p.classes;
    double z = 0.0, blank = 0.0;
    for (int64_t s = 0; s < label.size(); ++s) {
        z += product(s);
        if (!(s & 1)) blank += product(s);
    }
    auto softmax = [&](int64_t c) { return p.log_probs ? 0.0 : std::exp(input[c] - log_norm); };
    for (int64_t c = 0; c < p.classes; ++c) grad[c] = softmax(c);
    grad[p.blank] = fastctc::lattice::gradient(softmax(p.blank), blank / z, 1.0);
    for (int64_t j = 0; j < label.label_length(); ++j) {
        if (!fastctc::lattice::first_of_its_class(label, j)) continue;
        double occupancy = 0.0;
        for (int64_t i = j; i >= 0; i = fastctc::lattice::next_same_label(label, i)) occupancy += product(2 * i + 1);
        const int32_t c = label[2 * j + 1];
        grad[c] = fastctc::lattice::gradient(softmax(c), occupancy / z, 1.0);
    }
    return z;
}

// The CUDA kernels' data flow for one sequence, serially: returns the loss and
// writes the gradient rows of the sequence (scale 1).
double lattice_sequence(const Problem &p, int64_t n, int64_t label_offset, std::vector<double> &grad) {
    const int64_t frames = p.input_lengths[n], classes = p.classes;
    const fastctc::lattice::ExtendedLabel label(p.labels.data() + label_offset, p.label_lengths[n], p.blank);
    const int64_t states = label.size();
    auto input_row = [&](int64_t t) { return p.inputs.data() + (t * p.batch + n) * classes; };
    auto grad_row = [&](int64_t t) { return grad.data() + (t * p.batch + n) * classes; };
    for (int64_t t = 0; t < p.frames; ++t)
        for (int64_t c = 0; c < classes; ++c) grad_row(t)[c] = 0.0;
    if (frames < label.min_frames()) return INFINITY;  // prepare_sequences
    if (frames == 0) return 0.0;

    std::vector<double> log_norm(size_t(frames), 0.0);  // log_normalisers
    if (!p.log_probs)
        for (int64_t t = 0; t < frames; ++t) log_norm[t] = fastctc::FASTCTC_ISA::log_normaliser(input_row(t), classes, 1);
    auto log_emission = [&](int64_t t, int64_t s) { return input_row(t)[label[s]] - log_norm[t]; };

    auto can_skip_into = [&](int64_t s) { return s < states && label.can_skip_into(s); };
    std::vector<double> alpha(size_t(frames * states));  // lattice_recursions, forward blocks
    for (int64_t t = 0; t < frames; ++t)
        for (int64_t s = 0; s < states; ++s)
            alpha[t * states + s] = fastctc::lattice::alpha(t ? &alpha[(t - 1) * states] : nullptr, s,
                                                            can_skip_into(s), log_emission(t, s));
    const double log_p = fastctc::lattice::log_likelihood(&alpha[(frames - 1) * states], states);
    if (log_p == -INFINITY) return INFINITY;

    std::vector<double> beta(size_t(frames * states)), weighted(size_t(2 * states));  // backward blocks
    for (int64_t t = frames - 1; t >= 0; --t) {
        const double *next = t == frames - 1 ? nullptr : &weighted[((t + 1) & 1) * states];
        double *cur = &weighted[(t & 1) * states];
        for (int64_t s = 0; s < states; ++s) {
            beta[t * states + s] = fastctc::lattice::beta(next, s, states, can_skip_into(s + 2));
            cur[s] = beta[t * states + s] + log_emission(t, s);
        }
    }

    for (int64_t t = 0; t < frames; ++t) {  // gradient
        const double *log_alpha = &alpha[t * states], *log_beta = &beta[t * states];
        double largest = -INFINITY;
        for (int64_t s = 0; s < states; ++s) largest = std::fmax(largest, log_alpha[s] + log_beta[s]);
        const double shift = fastctc::lattice::frame_shift(largest);
        gradient_row(p, n, t, label, log_norm[t], grad_row(t),
                     [&](int64_t s) { return fastctc::lattice::scaled_product(log_alpha[s], log_beta[s], shift); });
    }
    return -log_p;
}

// Frame t's new values of a probability-space row, scaled group by group as a
// warp scales its sweep: u holds them in their groups' units, unit[g] those
// units; writes the scaled values and the groups' exponents.
void scale_groups(const std::vector<double> &u, const std::vector<int32_t> &unit, double *row, int32_t *exponent) {
    namespace pl = fastctc::lattice::probability;
    const int states = int(u.size()), groups = int(pl::group_count(states));
    for (int g = 0; g < groups; ++g) {
        uint32_t largest = 0;
        for (int s = g << pl::kGroupBits; s < states && pl::group_of(s) == g; ++s)
            largest = std::max(largest, pl::high_word(u[s]));
        for (int s = g << pl::kGroupBits; s < states && pl::group_of(s) == g; ++s) row[s] = pl::scaled(u[s], largest);
        exponent[g] = pl::group_exponent(largest, unit[g]);
    }
}

// The probability-space kernels' data flow for one sequence with a gradient:
// returns the loss and writes the gradient rows, or returns NaN where the
// kernels would hand the sequence to the log-space path (*trusted false).
double probability_sequence(const Problem &p, int64_t n, int64_t label_offset, std::vector<double> &grad,
                            bool *trusted) {
    namespace pl = fastctc::lattice::probability;
    const int64_t frames = p.input_lengths[n], classes = p.classes;
    const fastctc::lattice::ExtendedLabel label(p.labels.data() + label_offset, p.label_lengths[n], p.blank);
    const int states = int(label.size()), groups = int(pl::group_count(states));
    auto input_row = [&](int64_t t) { return p.inputs.data() + (t * p.batch + n) * classes; };
    if (frames < label.min_frames() || frames == 0) {  // no lattice: the kernels' common code (lattice_sequence)
        *trusted = false;
        return NAN;
    }
    std::vector<double> log_norm(size_t(frames), 0.0);
    if (!p.log_probs)
        for (int64_t t = 0; t < frames; ++t) log_norm[t] = fastctc::FASTCTC_ISA::log_normaliser(input_row(t), classes, 1);
    bool broken = false;  // an emission above 1, or NaN
    auto emission = [&](int64_t t, int64_t s) {
        const double log_y = input_row(t)[label[s]] - log_norm[t];
        broken = broken || !(log_y <= 0.0);
        return std::exp(log_y);
    };
    auto can_skip_into = [&](int64_t s) { return s < states && label.can_skip_into(s); };

    std::vector<double> alpha(size_t(frames * states)), beta(size_t(frames * states)), u(static_cast<size_t>(states));
    std::vector<int32_t> alpha_exponent(size_t(frames * groups)), beta_exponent(size_t(frames * groups));
    std::vector<int32_t> unit(static_cast<size_t>(groups));
    for (int64_t t = 0; t < frames; ++t) {  // forward blocks
        const double *prev = t ? &alpha[(t - 1) * states] : nullptr;
        const int32_t *prev_exponent = t ? &alpha_exponent[(t - 1) * groups] : nullptr;
        for (int g = 0; g < groups; ++g) unit[g] = t ? pl::forward_unit(prev_exponent, g) : 0;
        for (int s = 0; s < states; ++s) {
            const int g = pl::group_of(s);
            const pl::UnitFactors f = t ? pl::forward_factors(prev_exponent, g) : pl::UnitFactors{};
            u[s] = pl::alpha(prev, s, can_skip_into(s), emission(t, s), f);
        }
        scale_groups(u, unit, &alpha[t * states], &alpha_exponent[t * groups]);
    }
    const double log_p = pl::log_likelihood(&alpha[(frames - 1) * states], &alpha_exponent[(frames - 1) * groups],
                                            states);
    std::vector<double> weighted(size_t(2 * states));  // backward blocks
    for (int64_t t = frames - 1; t >= 0; --t) {
        const bool last = t == frames - 1;
        const double *next = last ? nullptr : &weighted[((t + 1) & 1) * states];
        const int32_t *next_exponent = last ? nullptr : &beta_exponent[(t + 1) * groups];
        for (int g = 0; g < groups; ++g) unit[g] = last ? 0 : pl::backward_unit(next_exponent, g, groups);
        for (int s = 0; s < states; ++s) {
            const int g = pl::group_of(s);
            const pl::UnitFactors f = last ? pl::UnitFactors{} : pl::backward_factors(next_exponent, g, groups);
            u[s] = pl::beta(next, s, states, can_skip_into(s + 2), f);
        }
        scale_groups(u, unit, &beta[t * states], &beta_exponent[t * groups]);
        for (int64_t s = 0; s < states; ++s) weighted[(t & 1) * states + s] = beta[t * states + s] * emission(t, s);
    }
    *trusted = true;
    if (broken || !std::isfinite(log_p)) {
        *trusted = false;
        return NAN;
    }
    for (int64_t t = 0; t < frames; ++t) {  // gradient, probability rows
        const double *a = &alpha[t * states], *b = &beta[t * states];
        const int32_t *ea = &alpha_exponent[t * groups], *eb = &beta_exponent[t * groups];
        int64_t top = 2 * int64_t(pl::kEmpty);
        for (int g = 0; g < groups; ++g) top = std::max(top, int64_t(ea[g]) + eb[g]);
        const double z = gradient_row(p, n, t, label, log_norm[t], &grad[(t * p.batch + n) * classes],
                                      [&](int64_t s) {
                                          const int g = pl::group_of(int(s));
                                          return pl::scaled_product(a[s], b[s], ea[g], eb[g], top);
                                      });
        int64_t lost = pl::kEmpty;
        for (int g = 0; g < groups; ++g)
            lost = std::max(lost, pl::lost_exponent(t ? &alpha_exponent[(t - 1) * groups] : nullptr, ea, eb,
                                                    t + 1 < frames ? &beta_exponent[(t + 1) * groups] : nullptr,
                                                    g, groups));
        if (!pl::frame_trusted(z, top, states, lost)) {
            *trusted = false;
            return NAN;
        }
    }
    return -log_p;
}

// log_space_tolerance: the host's log-space rows are not shifted per frame as
// the kernel's are, so on long inputs they carry errors of order eps |ln p|.
void check_against_core(int index, const Problem &p, double log_space_tolerance = 1e-12) {
    fastctc_options options{};
    options.blank = p.blank;
    options.log_probs = p.log_probs;
    options.num_threads = 1;
    fastctc_batch batch{p.frames, p.batch, p.classes, p.input_lengths.data(), p.label_lengths.data(),
                        p.labels.empty() ? nullptr : p.labels.data()};
    size_t bytes = 0;
    check(fastctc_workspace_size(&batch, &options, 1, &bytes) == FASTCTC_STATUS_SUCCESS, "workspace query", index);
    std::vector<unsigned char> workspace(bytes);
    std::vector<double> losses(size_t(p.batch)), grad(p.inputs.size());
    const int64_t strides[3] = {p.batch * p.classes, p.classes, 1};
    check(fastctc_ctc_loss_f64(&batch, &options, p.inputs.data(), strides, losses.data(), grad.data(), strides,
                               nullptr, workspace.data(), bytes) == FASTCTC_STATUS_SUCCESS,
          "core call", index);

    std::vector<double> lattice_grad(p.inputs.size()), probability_grad(p.inputs.size());
    int64_t offset = 0;
    for (int64_t n = 0; n < p.batch; ++n) {
        const double loss = lattice_sequence(p, n, offset, lattice_grad);
        check(close(loss, losses[n], log_space_tolerance, 1e-12), "loss matches the core", index);
        bool trusted = false;
        const double probability_loss = probability_sequence(p, n, offset, probability_grad, &trusted);
        if (trusted) {
            ++trusted_sequences;
            check(close(probability_loss, losses[n], 1e-12, 1e-12), "probability-space loss matches the core", index);
        } else {  // the kernels recompute it in log space (checked above): skip its rows here
            for (int64_t t = 0; t < p.input_lengths[n]; ++t)
                for (int64_t c = 0; c < p.classes; ++c) {
                    const size_t i = size_t((t * p.batch + n) * p.classes + c);
                    probability_grad[i] = grad[i];
                }
        }
        offset += p.label_lengths[n];
    }
    for (size_t i = 0; i < grad.size(); ++i) {
        check(close(lattice_grad[i], grad[i], log_space_tolerance, log_space_tolerance), "gradient matches the core",
              index);
        check(close(probability_grad[i], grad[i], 1e-12, 1e-12), "probability-space gradient matches the core", index);
    }
}

// Long sequences, whose rows span far more than a double's range: the
// probability path must vouch for ordinary ones (group scales keep their
// mass), and whatever it vouches for must match the core.
void check_long_problems(std::mt19937_64 &rng) {
    const struct {
        int64_t frames, labels;
        double scale;
        bool must_be_trusted;
    } cases[] = {{2000, 200, 2.0, true}, {3000, 1000, 2.0, true}, {600, 100, 100.0, false}};
    int index = 1000;
    for (const auto &c : cases) {
        Problem p;
        p.frames = c.frames;
        p.batch = 1;
        p.classes = 30;
        p.blank = 0;
        p.log_probs = false;
        std::normal_distribution<double> normal(0.0, c.scale);
        p.inputs.resize(size_t(p.frames * p.classes));
        for (double &v : p.inputs) v = normal(rng);
        p.input_lengths = {p.frames};
        p.label_lengths = {c.labels};
        for (int64_t j = 0; j < c.labels; ++j) p.labels.push_back(int32_t(std::uniform_int_distribution<int>(1, 29)(rng)));
        const int64_t before = trusted_sequences;
        check_against_core(index, p, 1e-8);
        if (c.must_be_trusted) check(trusted_sequences == before + 1, "the probability path vouches for it", index);
        ++index;
    }
}

// The class chains against their definition, on labels with many repeats.
void check_chains(std::mt19937_64 &rng) {
    for (int trial = 0; trial < 200; ++trial) {
        const int64_t length = std::uniform_int_distribution<int64_t>(0, 12)(rng);
        std::vector<int32_t> l(static_cast<size_t>(length));
        for (int32_t &k : l) k = int32_t(std::uniform_int_distribution<int>(1, 3)(rng));
        const fastctc::lattice::ExtendedLabel label(l.data(), length, 0);
        std::vector<int> visits(static_cast<size_t>(length), 0);
        for (int64_t j = 0; j < length; ++j) {
            bool first = true;
            for (int64_t i = 0; i < j; ++i) first = first && l[i] != l[j];
            check(fastctc::lattice::first_of_its_class(label, j) == first, "first_of_its_class", trial);
            int64_t next = -1;
            for (int64_t i = length - 1; i > j; --i)
                if (l[i] == l[j]) next = i;
            check(fastctc::lattice::next_same_label(label, j) == next, "next_same_label", trial);
            if (first)
                for (int64_t i = j; i >= 0; i = fastctc::lattice::next_same_label(label, i)) ++visits[i];
        }
        for (int v : visits) check(v == 1, "the chains visit every label position once", trial);
    }
}

void check_workspace_plan() {
    using fastctc::cuda::DeviceWorkspaceLayout;
    using fastctc::cuda::plan_device_workspace;
    DeviceWorkspaceLayout with_grad, loss_only;
    check(plan_device_workspace(150, 32, 40, true, &with_grad) == FASTCTC_STATUS_SUCCESS, "plan with grad", 0);
    check(plan_device_workspace(150, 32, 40, false, &loss_only) == FASTCTC_STATUS_SUCCESS, "plan loss only", 0);
    check(with_grad.max_states == 81 && with_grad.lattice_blocks == 64 && loss_only.lattice_blocks == 32, "extents", 0);
    check(with_grad.total_bytes >= size_t(32) * 150 * (2 * 81 + 41) * sizeof(double),
          "alpha, beta and the emission table fit", 0);
    check(with_grad.max_groups == 3, "groups of 32 states", 0);
    check(loss_only.total_bytes < with_grad.total_bytes, "the loss alone needs less", 0);
    const size_t offsets[] = {with_grad.label_offsets, with_grad.impossible, with_grad.log_p, with_grad.log_norm,
                              with_grad.rolling, with_grad.alpha, with_grad.beta, with_grad.alpha_exponent,
                              with_grad.beta_exponent, with_grad.emissions, with_grad.untrusted,
                              with_grad.unvouched, with_grad.next_label, with_grad.first_label};
    for (size_t offset : offsets) check(offset % fastctc::cuda::kDeviceAlignment == 0, "aligned arrays", 0);
    DeviceWorkspaceLayout layout;
    check(plan_device_workspace(10, 2, -1, true, &layout) == FASTCTC_STATUS_INVALID_VALUE, "negative bound", 0);
    check(plan_device_workspace(INT64_MAX / 2, 4, 1, true, &layout) == FASTCTC_STATUS_SIZE_OVERFLOW, "overflow", 0);
    check(plan_device_workspace(1, int64_t(INT32_MAX) + 1, 0, false, &layout) == FASTCTC_STATUS_SIZE_OVERFLOW,
          "more sequences than a grid", 0);
    check(plan_device_workspace(1, int64_t(INT32_MAX) / 2 + 1, 0, true, &layout) == FASTCTC_STATUS_SIZE_OVERFLOW,
          "more forward and backward blocks than a grid", 0);
}

}  // namespace

int main() {
    std::mt19937_64 rng(20061);
    for (int i = 0; i < 300; ++i) check_against_core(i, random_problem(rng));
    const int64_t random_trusted = trusted_sequences;
    check_long_problems(rng);
    check_chains(rng);
    check_workspace_plan();
    if (failures) {
        std::fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    // The path is exercised: of the ~900 random sequences, a third have no lattice
    // (impossible or empty) and half the problems give log-scores above 0
    // (emissions above 1), which the probability path leaves to log space.
    check(random_trusted > 200, "the probability path vouches for many random sequences", 0);
    std::printf("cuda_lattice_test: all checks passed (%lld sequences in probability space)\n",
                static_cast<long long>(trusted_sequences));
    return 0;
}
