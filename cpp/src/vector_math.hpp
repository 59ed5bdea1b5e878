// Exponential and logarithm written without branches, so that loops over them
// vectorise (the C library's versions are calls the compiler cannot vectorise).
//
// exp_nonpositive: e^x for x <= 0.
// Range reduction (Cody and Waite): x = n ln 2 + r with n = round(x / ln 2) and
// |r| <= ln(2) / 2, so e^x = 2^n e^r.  ln 2 is split into a head with few
// significant bits, whose product with n is exact, and a tail, which keeps r
// accurate.  e^r is its Taylor polynomial: degree 7 in float (truncation error
// below 3e-9 relative, under float's 6e-8 ulp) and degree 13 in double (below
// 5e-18).  n is rounded by adding 1.5 * 2^(mantissa bits), which leaves n in the
// low mantissa bits of the sum, and 2^n is built directly in the exponent field,
// so no float-to-integer conversion is needed.
//
// Callers pass differences to a maximum, so x <= 0 or NaN.  Results below the
// smallest normal number are flushed to 0 (so e^-inf = 0 exactly); NaN gives NaN.
// Measured accuracy: 8e-8 relative in float, 2e-16 in double.  A caller that needs
// less than double's accuracy may ask for a lower degree (exp_nonpositive<double,
// 8>: 2.8e-10 relative, measured).
//
// log_nonnegative: ln x for x >= 0, in double.  With x = 2^e m, m in
// [sqrt(1/2), sqrt(2)), ln x = e ln 2 + ln m, and ln m = 2 artanh(z) =
// 2 (z + z^3/3 + z^5/5 + ...) with z = (m - 1) / (m + 1), |z| < 0.172, so eleven
// terms leave a truncation error below 3e-17 relative.  e is read from the
// exponent field and turned into a double without an integer conversion.
// ln 0 = -inf, ln inf = inf, NaN stays NaN; subnormal x is treated as 0.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#include "fused_multiply_add.hpp"
#include "isa.hpp"

namespace fastctc::FASTCTC_ISA {

template <typename Real>
struct ExpTraits;

template <>
struct ExpTraits<float> {
    using Bits = uint32_t;
    static constexpr int kDegree = 7;
    static constexpr int kMantissaBits = 23;
    static constexpr Bits kExponentBias = 127;
    static constexpr float kLowest = -87.0f;              // e^-87 > FLT_MIN = 1.18e-38
    static constexpr float kRoundingShift = 12582912.0f;  // 1.5 * 2^23
    static constexpr float kLog2e = 1.44269504088896341f;
    static constexpr float kLn2Head = 0.693115234375f;  // ln 2 to 12 fractional bits
    static constexpr float kLn2Tail = 3.1946183e-05f;  // ln 2 - head
};

template <>
struct ExpTraits<double> {
    using Bits = uint64_t;
    static constexpr int kDegree = 13;
    static constexpr int kMantissaBits = 52;
    static constexpr Bits kExponentBias = 1023;
    static constexpr double kLowest = -708.0;                   // e^-708 > DBL_MIN = 2.2e-308
    static constexpr double kRoundingShift = 6755399441055744.0;  // 1.5 * 2^52
    static constexpr double kLog2e = 1.4426950408889634;
    static constexpr double kLn2Head = 0.6931471806019545;  // ln 2 to 32 fractional bits
    static constexpr double kLn2Tail = -4.2009150726810846e-11;  // ln 2 - head
};

constexpr double inverse_factorial(int k) {
    double factorial = 1.0;
    for (int i = 2; i <= k; ++i) factorial *= i;
    return 1.0 / factorial;
}

// sum_{k=0}^{n} r^k / k! by Horner's rule, unrolled at compile time: a loop
// here would stop the compiler from vectorising the loops that call it.
template <typename Real, size_t... K>
FASTCTC_ALWAYS_INLINE Real taylor_exp(Real r, std::index_sequence<K...>) {
    constexpr int n = int(sizeof...(K));
    Real p = Real(inverse_factorial(n));
    ((p = fused_multiply_add(p, r, Real(inverse_factorial(n - 1 - int(K))))), ...);
    return p;
}

// 1 + w/3 + w^2/5 + ... + w^n/(2n + 1), likewise.
template <size_t... K>
FASTCTC_ALWAYS_INLINE double artanh_series(double w, std::index_sequence<K...>) {
    constexpr int n = int(sizeof...(K));
    double p = 1.0 / (2 * n + 1);
    ((p = fused_multiply_add(p, w, 1.0 / (2 * (n - 1 - int(K)) + 1))), ...);
    return p;
}

template <typename To, typename From>
FASTCTC_ALWAYS_INLINE To bit_cast(From value) {
    static_assert(sizeof(To) == sizeof(From));
    To result;
    std::memcpy(&result, &value, sizeof(To));
    return result;
}

// kMayFlush = false: the caller knows x >= kLowest (or NaN), and the clamping,
// which changes nothing there, is left out.
template <typename Real, int kDegree = ExpTraits<Real>::kDegree, bool kMayFlush = true>
FASTCTC_ALWAYS_INLINE Real exp_nonpositive(Real x) {
    using T = ExpTraits<Real>;
    using Bits = typename T::Bits;
    const Real clamped = kMayFlush && x < T::kLowest ? T::kLowest : x;  // keeps NaN
    const Real shifted = fused_multiply_add(clamped, T::kLog2e, T::kRoundingShift);
    const Real n = shifted - T::kRoundingShift;
    const Real r = fused_multiply_add(-n, T::kLn2Tail, fused_multiply_add(-n, T::kLn2Head, clamped));
    const Real p = taylor_exp(r, std::make_index_sequence<kDegree>{});
    const Bits exponent =
        (bit_cast<Bits>(shifted) - bit_cast<Bits>(T::kRoundingShift) + T::kExponentBias) << T::kMantissaBits;
    const Real result = p * bit_cast<Real>(exponent);
    return kMayFlush && x < T::kLowest ? Real(0) : result;
}

FASTCTC_ALWAYS_INLINE double log_nonnegative(double x) {
    constexpr uint64_t kMantissa = 0x000FFFFFFFFFFFFFull, kExponentOfOne = 0x3FF0000000000000ull;
    constexpr double kSqrt2 = 1.4142135623730951, kTwoTo52 = 4503599627370496.0;
    const uint64_t bits = bit_cast<uint64_t>(x);
    // The biased exponent as a double: its bits placed below 2^52, minus 2^52.
    const double biased = bit_cast<double>((bits >> 52) | bit_cast<uint64_t>(kTwoTo52)) - kTwoTo52;
    const double m1 = bit_cast<double>((bits & kMantissa) | kExponentOfOne);  // in [1, 2)
    const bool halve = m1 >= kSqrt2;
    const double m = halve ? 0.5 * m1 : m1;
    const double e = biased - 1023.0 + (halve ? 1.0 : 0.0);
    const double z = (m - 1.0) / (m + 1.0), w = z * z;
    const double log_m = 2.0 * z * artanh_series(w, std::make_index_sequence<10>{});
    const double result = fused_multiply_add(e, ExpTraits<double>::kLn2Head,
                                             fused_multiply_add(e, ExpTraits<double>::kLn2Tail, log_m));
    const double finite = biased > 0.0 ? result : -INFINITY;  // 0 and subnormals give -inf
    return x < INFINITY ? finite : x;                         // inf stays inf, NaN stays NaN
}

}  // namespace fastctc::FASTCTC_ISA
