// The CTC lattice in probability space, one state at a time, for the CUDA
// kernels' fast path and their host test.
//
// Notation as in lattice.hpp (0-based frames and states, our beta without the
// emission at its own frame).  Graves et al. 2006 (Section 4.1, eqs. (12)-(13))
// rescale each frame's row as a whole, but on long inputs a row's mass spreads
// over more than the 600-odd decades a double holds, and whatever underflows
// is lost.  So each group of 32 consecutive states (one warp's states in one
// sweep of the kernels) has its own scale, a power of two: a state's value is
// value[s] * 2^{exponent[group(s)]}, with the group's largest value in [1, 2).
// Powers of two keep the scaling exact and need no exp or log: the recursion
// is two additions and a product per state, and the emissions y = e^{ln y}
// can be computed for every frame beforehand (probability_recursions.cuh).
//
// A group's new values are computed in its unit, the larger exponent of the
// groups it reads (itself and its neighbour); the other's factor is
// 2^{difference} <= 1.  With emissions y <= 1 and values below 2, whatever
// underflows there (a subnormal or flushed factor, emission or product) is
// below 2^kLostBelow in those units.  The gradient kernel turns this into a
// certificate (frame_trusted()); a sequence it cannot vouch for, or with an
// emission above 1 or NaN, is recomputed in log space.
//
// States and exponents are 32-bit integers: the path runs only where a row
// fits in shared memory, and on at most kMaxFrames frames, over which an
// exponent falls by at most 1075 a frame (a value below 2^-1074 is 0) and
// rises by at most 2 (values below 2, emissions at most 1, three terms).
// Sums of two exponents are taken in 64 bits.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "../host_device.hpp"

namespace fastctc {
namespace lattice {
namespace probability {

constexpr int kGroupBits = 5;  // 32 states share a scale
constexpr int64_t kMaxFrames = int64_t(1) << 19;
constexpr int32_t kEmpty = -(int32_t(1) << 30);  // the exponent of a group without mass, below any other
static_assert(kMaxFrames * 1075 < (int64_t(1) << 30), "exponents stay above kEmpty");
// Below 2^kLostBelow in the unit of its group a new value may be wrong (at
// most 3 terms of 2 * 2^-1022, or a product below 2^-1022).
constexpr int32_t kLostBelow = -1000;
// A frame is trusted if what underflow can have cost it is below 2^-80 of it.
constexpr double kTrustedMargin = 80.0;

FASTCTC_HOST_DEVICE inline int group_of(int s) { return s >> kGroupBits; }
FASTCTC_HOST_DEVICE inline int64_t group_count(int64_t states) {
    return (states + (int64_t(1) << kGroupBits) - 1) >> kGroupBits;
}

FASTCTC_HOST_DEVICE inline uint64_t bits_of(double value) {
#ifdef __CUDA_ARCH__
    return uint64_t(__double_as_longlong(value));
#else
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
#endif
}

FASTCTC_HOST_DEVICE inline double from_bits(uint64_t bits) {
#ifdef __CUDA_ARCH__
    return __longlong_as_double(static_cast<long long>(bits));
#else
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
#endif
}

// 2^k for k <= 1023, exactly; 0 below the subnormals.  Without branches: a
// normal power of two is its exponent field alone, and a subnormal one
// 2^{k + 64} 2^-64.
FASTCTC_HOST_DEVICE inline double power_of_two(int32_t k) {
    const bool subnormal = k < -1022;
    const double power = from_bits(uint64_t(1023 + (subnormal ? k + 64 : k)) << 52);
    const double value = subnormal ? power * 0x1p-64 : power;
    return k < -1074 ? 0.0 : value;  // the bits above are garbage there
}

// The upper 32 bits of a value >= 0: ordered as the values are, so a group's
// largest is a 32-bit maximum (one instruction on a warp).  0 for 0 and for
// values below 2^-1042, which count as lost.
FASTCTC_HOST_DEVICE inline uint32_t high_word(double value) { return uint32_t(bits_of(value) >> 32); }

// e with 2^e <= largest < 2^{e+1}, from its upper word (-1023 for a subnormal).
FASTCTC_HOST_DEVICE inline int binary_exponent(uint32_t largest_high_word) {
    return int((largest_high_word >> 20) & 0x7FF) - 1023;
}

// A new value of a group whose largest has upper word largest_high_word,
// scaled so that the largest is in [1, 2) (exactly, by a power of two; the
// largest is below 8, or NaN or inf from an input the path leaves to log
// space).
FASTCTC_HOST_DEVICE inline double scaled(double value, uint32_t largest_high_word) {
    const int e = binary_exponent(largest_high_word);
    if (largest_high_word == 0) return 0.0;
    return e <= 1023 - 1 ? value * power_of_two(-e) : std::ldexp(value, -e);
}

// The exponent of that group after scaling: its unit plus the scaling's.
FASTCTC_HOST_DEVICE inline int32_t group_exponent(uint32_t largest_high_word, int32_t unit) {
    return largest_high_word == 0 ? kEmpty : unit + binary_exponent(largest_high_word);
}

template <typename Int>
FASTCTC_HOST_DEVICE inline Int larger(Int a, Int b) {
    return a > b ? a : b;
}

// The unit of group g's new values: forward, it reads groups g and g - 1 of
// the previous frame; backward, groups g and g + 1 of the next.
FASTCTC_HOST_DEVICE inline int32_t forward_unit(const int32_t *prev_exponent, int g) {
    return g > 0 ? larger(prev_exponent[g], prev_exponent[g - 1]) : prev_exponent[g];
}
FASTCTC_HOST_DEVICE inline int32_t backward_unit(const int32_t *next_exponent, int g, int groups) {
    return g + 1 < groups ? larger(next_exponent[g], next_exponent[g + 1]) : next_exponent[g];
}

// The factors that bring a previous row's groups into a new group's unit:
// its own group's, and the neighbour's (g - 1 forward, g + 1 backward).  The
// unit is the larger of the two exponents, so one factor is 1.
struct UnitFactors {
    double own, neighbour;
};

FASTCTC_HOST_DEVICE inline UnitFactors unit_factors(int32_t own, int32_t neighbour) {
    const int32_t difference = neighbour - own;
    const double smaller = power_of_two(difference > 0 ? -difference : difference);
    return difference > 0 ? UnitFactors{smaller, 1.0} : UnitFactors{1.0, smaller};
}

FASTCTC_HOST_DEVICE inline UnitFactors forward_factors(const int32_t *prev_exponent, int g) {
    return g > 0 ? unit_factors(prev_exponent[g], prev_exponent[g - 1]) : UnitFactors{1.0, 0.0};
}
FASTCTC_HOST_DEVICE inline UnitFactors backward_factors(const int32_t *next_exponent, int g, int groups) {
    return g + 1 < groups ? unit_factors(next_exponent[g], next_exponent[g + 1]) : UnitFactors{1.0, 0.0};
}

// The factor for a previous row's value `distance` states before (forward)
// or after (backward) state s, where s has `room` states of its own group on
// that side.
FASTCTC_HOST_DEVICE inline double factor(int distance, int room, UnitFactors f) {
    return distance <= room ? f.own : f.neighbour;
}

// alpha_t(s) in the unit of its group, eqs. (5)-(7); prev is frame t - 1's
// row (nullptr at t = 0, where the unit is 2^0), f its forward_factors(),
// y = y^t_{l'_s}.
FASTCTC_HOST_DEVICE inline double alpha(const double *prev, int s, bool can_skip, double y, UnitFactors f) {
    if (!prev) return s < 2 ? y : 0.0;  // eq. (5)
    const int room = s & ((1 << kGroupBits) - 1);  // states of its group before s
    double sum = prev[s] * f.own;
    if (s >= 1) sum += prev[s - 1] * factor(1, room, f);
    if (can_skip) sum += prev[s - 2] * factor(2, room, f);
    return y * sum;  // eqs. (6)-(7)
}

// beta_t(s) (without the emission at t) in the unit of its group, eqs.
// (10)-(11); next_weighted[s'] is beta_{t+1}(s') y^{t+1}_{l'_{s'}} in the
// scale of frame t + 1 (nullptr at the last frame, eq. (9), unit 2^0), f its
// backward_factors(); can_skip says whether a path may jump from s to s + 2.
FASTCTC_HOST_DEVICE inline double beta(const double *next_weighted, int s, int states, bool can_skip, UnitFactors f) {
    if (!next_weighted) return s >= states - 2 ? 1.0 : 0.0;
    const int room = (1 << kGroupBits) - 1 - (s & ((1 << kGroupBits) - 1));  // states of its group after s
    double sum = next_weighted[s] * f.own;
    if (s + 1 < states) sum += next_weighted[s + 1] * factor(1, room, f);
    if (can_skip) sum += next_weighted[s + 2] * factor(2, room, f);
    return sum;
}

// ln p(l|x) from the last forward row, eq. (8); NaN or -inf where the row
// cannot give it (the log-space path then recomputes the sequence).
FASTCTC_HOST_DEVICE inline double log_likelihood(const double *last, const int32_t *exponent, int states) {
    const double a = last[states - 1], b = states >= 2 ? last[states - 2] : 0.0;
    const int32_t ea = exponent[group_of(states - 1)], eb = states >= 2 ? exponent[group_of(states - 2)] : kEmpty;
    const int32_t top = larger(ea, eb);
    const double sum = a * power_of_two(ea - top) + b * power_of_two(eb - top);
    return std::log(sum) + double(top) * 0.69314718055994530942;  // ln 2
}

// alpha_t(s) beta_t(s) / 2^top, with top the frame's largest sum of a group's
// two exponents: the occupancies before the frame's normalisation
// (lattice.hpp, scaled_product()).
FASTCTC_HOST_DEVICE inline double scaled_product(double alpha, double beta, int32_t alpha_exponent,
                                                 int32_t beta_exponent, int64_t top) {
    const int64_t k = int64_t(alpha_exponent) + beta_exponent - top;  // <= 0
    return (alpha * beta) * power_of_two(int32_t(k < -2000 ? -2000 : k));
}

// What underflow can have cost frame t in group g, as an exponent of 2:
// alpha_t's new values there were computed in the unit forward_unit() of
// frame t - 1's exponents (2^0 at t = 0, prev_alpha nullptr), and what they
// lost is below 2^{unit + kLostBelow} each; each would have added at most
// itself times beta_t(s) < 2^{beta's exponent + 1} to p(l|x) (eq. (14)).
// Likewise for beta_t, whose unit is backward_unit() of frame t + 1's
// exponents (at the last frame, next_beta nullptr, beta is exact).
FASTCTC_HOST_DEVICE inline int64_t lost_exponent(const int32_t *prev_alpha, const int32_t *alpha,
                                                 const int32_t *beta, const int32_t *next_beta, int g, int groups) {
    const int64_t alpha_unit = prev_alpha ? forward_unit(prev_alpha, g) : 0;
    const int64_t beta_unit = next_beta ? backward_unit(next_beta, g, groups) : kEmpty;
    return larger<int64_t>(alpha_unit + beta[g], alpha[g] + beta_unit) + kLostBelow + 1;
}

// Whether frame t's occupancies can be trusted, from z (the sum of its
// scaled products), top, and the largest lost_exponent() over its groups:
// the frame's |l'| states can have lost at most |l'| 2^lost of p(l|x) =
// Z_t = z 2^top, and what a frame loses changes any occupancy by at most that
// share of p.  Trusted if the share is below 2^-kTrustedMargin, so that over
// T frames the gradient is off by at most T 2^-80 of p.
FASTCTC_HOST_DEVICE inline bool frame_trusted(double z, int64_t top, int64_t states, int64_t lost) {
    if (!(z > 0.0 && z < INFINITY)) return false;
    return std::log2(double(states)) + double(lost) <= std::log2(z) + double(top) - kTrustedMargin;
}

}  // namespace probability
}  // namespace lattice
}  // namespace fastctc
