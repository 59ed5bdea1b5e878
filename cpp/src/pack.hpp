// W doubles computed side by side: the same lattice state of W sequences
// (grouped_lattice.hpp), or, with W = 1, of one.
//
// A lattice row of W sequences stores each entry's W values together (entry i
// of sequence w at i * W + w), so Pack<W>::load(row + i * W) is entry i of all
// of them; with W = 1 that is the one-sequence layout.  Every operation acts on
// each lane alone, as the same scalar expression would: a computation written
// once over Pack<W> gives each lane the bits it gives one sequence.
//
// With GCC or Clang, Pack<1> is a plain double, Pack<4> a vector type (one
// AVX2 register, two SSE2 ones) and Pack<8> a pair of them, or where AVX-512 is
// compiled for, one vector of eight (one register); elsewhere all are arrays
// with fixed-count loops.  (Measured with GCC 12: arrays of 4 are
// vectorised across neighbouring states, with shuffles to transpose them, 1.4
// times the instructions; a vector type of one lane triples the instructions of
// W = 1; GCC's own vector type of eight doubles, on AVX2, goes through memory:
// 1.45 times the instructions of the pair on the small shape.)
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "isa.hpp"
#include "vector_math.hpp"

#if defined(__GNUC__)
#define FASTCTC_VECTOR_TYPES 1
#else
#define FASTCTC_VECTOR_TYPES 0
#endif

namespace fastctc::FASTCTC_ISA {

template <int W, typename T>
struct LaneArray {
    T lane[W];
};

// The storage of W lanes of T.
template <int W, typename T>
struct LanesOf {
    using type = LaneArray<W, T>;
};
#if FASTCTC_VECTOR_TYPES
template <typename T>
struct LanesOf<1, T> {
    using type = T;
};
// W lanes of T as the compiler's vector type.
template <int W, typename T>
struct VectorLanes {
    typedef T type __attribute__((vector_size(W * sizeof(T))));
};
template <typename T>
struct LanesOf<4, T> : VectorLanes<4, T> {};

// Eight lanes as two four-lane vectors, with the operators of a vector type:
// each applies to both halves (with a scalar operand, the scalar to each).
template <typename T>
struct LanePair {
    using Half = typename LanesOf<4, T>::type;
    Half half[2];

    // A conversion of the lanes' bits, as a cast between vector types.
    template <typename U>
    FASTCTC_ALWAYS_INLINE explicit operator LanePair<U>() const {
        using Other = typename LanePair<U>::Half;
        return {{(Other)half[0], (Other)half[1]}};
    }
};
template <typename T>
FASTCTC_ALWAYS_INLINE const typename LanePair<T>::Half &half_of(const LanePair<T> &v, int h) {
    return v.half[h];
}
template <typename Scalar>
FASTCTC_ALWAYS_INLINE Scalar half_of(Scalar x, int) {
    return x;
}
// The lane type of a four-lane vector, as LanesOf names it: a comparison of
// doubles has lanes of long with GCC and of long long with Clang, int64_t both.
template <typename Half, typename E = std::remove_cv_t<std::remove_reference_t<decltype(std::declval<Half>()[0])>>>
using ElementOf =
    std::conditional_t<std::is_integral_v<E>, std::conditional_t<std::is_signed_v<E>, int64_t, uint64_t>, E>;
#define FASTCTC_PAIR_OPERATOR(op)                                                              \
    template <typename T, typename B>                                                          \
    FASTCTC_ALWAYS_INLINE auto operator op(const LanePair<T> &a, const B &b) {                 \
        using Half = decltype(a.half[0] op half_of(b, 0));                                     \
        return LanePair<ElementOf<Half>>{{a.half[0] op half_of(b, 0), a.half[1] op half_of(b, 1)}}; \
    }
FASTCTC_PAIR_OPERATOR(+)
FASTCTC_PAIR_OPERATOR(-)
FASTCTC_PAIR_OPERATOR(*)
FASTCTC_PAIR_OPERATOR(&)
FASTCTC_PAIR_OPERATOR(|)
FASTCTC_PAIR_OPERATOR(<<)
FASTCTC_PAIR_OPERATOR(>>)
FASTCTC_PAIR_OPERATOR(<)
FASTCTC_PAIR_OPERATOR(>)
FASTCTC_PAIR_OPERATOR(>=)
FASTCTC_PAIR_OPERATOR(==)
#undef FASTCTC_PAIR_OPERATOR
template <typename T>
FASTCTC_ALWAYS_INLINE LanePair<T> operator~(const LanePair<T> &a) {
    return {{~a.half[0], ~a.half[1]}};
}
template <typename T>
FASTCTC_ALWAYS_INLINE LanePair<T> &operator|=(LanePair<T> &a, const LanePair<T> &b) {
    return a = a | b;
}
template <typename T>
FASTCTC_ALWAYS_INLINE LanePair<T> &operator&=(LanePair<T> &a, const LanePair<T> &b) {
    return a = a & b;
}
#if defined(__AVX512F__)  // eight lanes, one register
template <typename T>
struct LanesOf<8, T> : VectorLanes<8, T> {};
#else  // eight lanes, two registers
template <typename T>
struct LanesOf<8, T> {
    using type = LanePair<T>;
};
#endif  // __AVX512F__
#endif  // FASTCTC_VECTOR_TYPES
template <int W, typename T>
using Lanes = typename LanesOf<W, T>::type;

// Whether Lanes<W, T> takes the operators of its lanes' type.
template <int W>
inline constexpr bool kNativeLanes = FASTCTC_VECTOR_TYPES && (W == 1 || W == 4 || W == 8);

// Whether Lanes<W, double> is a LanePair (loaded and stored a half at a time).
template <typename T>
inline constexpr bool kIsLanePair = false;
#if FASTCTC_VECTOR_TYPES
template <typename T>
inline constexpr bool kIsLanePair<LanePair<T>> = true;
#endif
template <int W>
inline constexpr bool kPairedLanes = kIsLanePair<Lanes<W, double>>;
// Whether a group's eight lanes are one vector (one AVX-512 register).
inline constexpr bool kEightLanesInOneVector = kNativeLanes<8> && !kPairedLanes<8>;

// Lane w of a storage.
template <int W, typename T>
FASTCTC_ALWAYS_INLINE T &lane_of(Lanes<W, T> &v, int w) {
    if constexpr (!kNativeLanes<W>)
        return v.lane[w];
    else if constexpr (W == 1)
        return v;
    else
        return reinterpret_cast<T *>(&v)[w];
}
template <int W, typename T>
FASTCTC_ALWAYS_INLINE T lane_of(const Lanes<W, T> &v, int w) {
    return lane_of<W, T>(const_cast<Lanes<W, T> &>(v), w);
}

// A true/false per lane: all bits set, or none.
template <int W>
struct Mask {
    Lanes<W, int64_t> bits{};

    FASTCTC_ALWAYS_INLINE bool operator[](int w) const { return lane_of<W, int64_t>(bits, w) != 0; }

    FASTCTC_ALWAYS_INLINE friend Mask operator|(Mask a, Mask b) {
        if constexpr (kNativeLanes<W>)
            a.bits |= b.bits;
        else
            for (int w = 0; w < W; ++w) a.bits.lane[w] |= b.bits.lane[w];
        return a;
    }
    FASTCTC_ALWAYS_INLINE friend Mask operator&(Mask a, Mask b) {
        if constexpr (kNativeLanes<W>)
            a.bits &= b.bits;
        else
            for (int w = 0; w < W; ++w) a.bits.lane[w] &= b.bits.lane[w];
        return a;
    }
    FASTCTC_ALWAYS_INLINE friend Mask operator!(Mask a) {
        if constexpr (kNativeLanes<W>)
            a.bits = ~a.bits;
        else
            for (int w = 0; w < W; ++w) a.bits.lane[w] = ~a.bits.lane[w];
        return a;
    }
    FASTCTC_ALWAYS_INLINE Mask &operator|=(Mask b) { return *this = *this | b; }
};

template <int W>
FASTCTC_ALWAYS_INLINE bool all_of(Mask<W> m) {
    bool all = true;
    for (int w = 0; w < W; ++w) all = all && m[w];
    return all;
}

template <int W>
FASTCTC_ALWAYS_INLINE bool any_of(Mask<W> m) {
    bool any = false;
    for (int w = 0; w < W; ++w) any = any || m[w];
    return any;
}

// The mask of a comparison's result: a bool, or W lanes of all-ones or zero.
template <int W>
FASTCTC_ALWAYS_INLINE int64_t as_mask_bits(bool c) {
    return -int64_t(c);
}
template <int W, typename Vector>
FASTCTC_ALWAYS_INLINE Lanes<W, int64_t> as_mask_bits(Vector v) {
    return (Lanes<W, int64_t>)v;
}

template <int W>
struct Pack {
    Lanes<W, double> lane;

    // A pair is loaded and stored a half at a time: copied whole, as one
    // 64-byte object, it went through the stack.
    static FASTCTC_ALWAYS_INLINE Pack load(const double *p) {
        Pack r;
        if constexpr (kPairedLanes<W>) {
            std::memcpy(&r.lane.half[0], p, sizeof r.lane.half[0]);
            std::memcpy(&r.lane.half[1], p + 4, sizeof r.lane.half[1]);
        } else {
            std::memcpy(&r.lane, p, sizeof r.lane);
        }
        return r;
    }
    static FASTCTC_ALWAYS_INLINE Pack all(double x) {
        Pack r;
        for (int w = 0; w < W; ++w) lane_of<W, double>(r.lane, w) = x;
        return r;
    }
    FASTCTC_ALWAYS_INLINE void store(double *p) const {
        if constexpr (kPairedLanes<W>) {
            std::memcpy(p, &lane.half[0], sizeof lane.half[0]);
            std::memcpy(p + 4, &lane.half[1], sizeof lane.half[1]);
        } else {
            std::memcpy(p, &lane, sizeof lane);
        }
    }
    FASTCTC_ALWAYS_INLINE double operator[](int w) const { return lane_of<W, double>(lane, w); }
    FASTCTC_ALWAYS_INLINE double &operator[](int w) { return lane_of<W, double>(lane, w); }

#define FASTCTC_PACK_ARITHMETIC(op)                                              \
    FASTCTC_ALWAYS_INLINE friend Pack operator op(Pack a, Pack b) {             \
        if constexpr (kNativeLanes<W>)                                           \
            a.lane = a.lane op b.lane;                                           \
        else                                                                     \
            for (int w = 0; w < W; ++w) a.lane.lane[w] = a[w] op b[w];          \
        return a;                                                                \
    }
#define FASTCTC_PACK_COMPARISON(op)                                              \
    FASTCTC_ALWAYS_INLINE friend Mask<W> operator op(Pack a, Pack b) {          \
        Mask<W> m;                                                               \
        if constexpr (kNativeLanes<W>)                                           \
            m.bits = as_mask_bits<W>(a.lane op b.lane);                          \
        else                                                                     \
            for (int w = 0; w < W; ++w) m.bits.lane[w] = as_mask_bits<1>(a[w] op b[w]); \
        return m;                                                                \
    }
    FASTCTC_PACK_ARITHMETIC(+)
    FASTCTC_PACK_ARITHMETIC(-)
    FASTCTC_PACK_ARITHMETIC(*)
    FASTCTC_PACK_ARITHMETIC(/)
    FASTCTC_PACK_COMPARISON(<)
    FASTCTC_PACK_COMPARISON(>)
    FASTCTC_PACK_COMPARISON(>=)
    FASTCTC_PACK_COMPARISON(==)
#undef FASTCTC_PACK_ARITHMETIC
#undef FASTCTC_PACK_COMPARISON
    FASTCTC_ALWAYS_INLINE Pack &operator+=(Pack b) { return *this = *this + b; }
};

// Lane by lane, m ? a : b.
template <int W>
FASTCTC_ALWAYS_INLINE Pack<W> select(Mask<W> m, Pack<W> a, Pack<W> b) {
    if constexpr (kNativeLanes<W> && W > 1) {
        using Bits = Lanes<W, int64_t>;
        a.lane = (Lanes<W, double>)((m.bits & (Bits)a.lane) | (~m.bits & (Bits)b.lane));
    } else {
        for (int w = 0; w < W; ++w) a[w] = m[w] ? a[w] : b[w];
    }
    return a;
}

// Lane by lane, a > b ? a : b (NaN in a gives b).
template <int W>
FASTCTC_ALWAYS_INLINE Pack<W> larger(Pack<W> a, Pack<W> b) {
    return select(a > b, a, b);
}

// The two functions below convert between a double holding a small integer k
// and the bits of 2^52 + k, whose low bits are k: exact, and free of
// integer-double conversions, which AVX2 has no vector form of.
inline constexpr double kTwoTo52 = 4503599627370496.0;

// The binary exponent of each lane's normal positive value, as a double.
template <int W>
FASTCTC_ALWAYS_INLINE Pack<W> exponent_of(Pack<W> x) {
    constexpr uint64_t kFieldOfTwoTo52 = uint64_t(1023 + 52) << 52;
    constexpr double kBias = kTwoTo52 + 1023.0;
    if constexpr (kNativeLanes<W> && W > 1) {
        using Bits = Lanes<W, uint64_t>;
        x.lane = (Lanes<W, double>)((((Bits)x.lane >> 52) & 0x7FF) | kFieldOfTwoTo52) - kBias;
    } else {
        for (int w = 0; w < W; ++w)
            x[w] = bit_cast<double>(((bit_cast<uint64_t>(x[w]) >> 52) & 0x7FF) | kFieldOfTwoTo52) - kBias;
    }
    return x;
}

// 2^exponent for integer exponents <= 1023 (or -inf or NaN), flushed to 0
// below the normal range.
template <int W>
FASTCTC_ALWAYS_INLINE Pack<W> power_of_two(Pack<W> exponent) {
    const Pack<W> biased = exponent + Pack<W>::all(kTwoTo52 + 1023.0);  // exact where it is used
    Pack<W> power;
    if constexpr (kNativeLanes<W> && W > 1)
        power.lane = (Lanes<W, double>)((Lanes<W, uint64_t>)biased.lane << 52);
    else
        for (int w = 0; w < W; ++w) power[w] = bit_cast<double>(bit_cast<uint64_t>(biased[w]) << 52);
    return select(exponent >= Pack<W>::all(-1022.0), power, Pack<W>::all(0.0));
}

}  // namespace fastctc::FASTCTC_ISA
