// Operations on one frame: a row of C inputs at a class stride.
//
// For logits u the network output is the softmax y_k = e^{u_k} / sum_c e^{u_c}
// (the y of Graves et al. 2006, eq. (1)), and ln y_k = u_k - ln sum_c e^{u_c}.
// The log normaliser is taken after subtracting the row maximum, with the sum in
// double, so no finite row overflows.  A NaN anywhere in the row makes it NaN,
// and so does a row without a finite maximum (all -inf, or any +inf): the
// softmax is undefined there and the sequence's result is NaN, never a made-up
// number.
//
// Each function has a contiguous fast path (class stride 1) compiled from the
// same source as the strided one, so both give bit-identical results.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__AVX512F__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "chunked_loop.hpp"
#include "isa.hpp"
#include "lane_sum.hpp"
#include "sequence.hpp"
#include "vector_math.hpp"

namespace fastctc::FASTCTC_ISA {

// Calls body(stride) with stride as a compile-time 1 when it is 1, so the
// compiler can vectorise the contiguous case.
template <typename Body>
inline auto with_unit_stride(int64_t stride, Body body) {
    struct Unit {
        constexpr operator int64_t() const { return 1; }
    };
    return stride == 1 ? body(Unit{}) : body(stride);
}

template <typename Real>
inline Real row_max(const Real *row, int64_t classes, int64_t stride) {
    return with_unit_stride(stride, [&](auto s) {
        Real max = -INFINITY;
#pragma omp simd reduction(max : max)  // max is exact: the order cannot change it
        for (int64_t c = 0; c < classes; ++c) max = row[c * s] > max ? row[c * s] : max;
        return max;
    });
}

// The smallest and the largest of a row (NaN aside, as in row_max()).
template <typename Real>
struct RowRange {
    Real min, max;
};

// The range of per-place smallest and largest values (Places of each, a power
// of two), in pairwise() trees: exact in any order.
template <int Places, typename Real>
FASTCTC_ALWAYS_INLINE RowRange<Real> range_of_places(const Real *mins, const Real *maxs) {
    return {pairwise<0, Places>(mins, [](Real a, Real b) { return b < a ? b : a; }),
            pairwise<0, Places>(maxs, [](Real a, Real b) { return b > a ? b : a; })};
}

// Elements of Real in a 64-byte cache line.
template <typename Real>
inline constexpr int kLineOf = 64 / int(sizeof(Real));

// A row of at most this many classes is short: its range and exponentials are
// taken in chunks of kChunk and the next one is fetched whole
// (prefetch_short_row()); a longer contiguous row's are taken a cache line at a
// time, and the next one is fetched line by line by its exponentials
// (for_each_in_lines()).
inline constexpr int64_t kChunkedRow = 64;

// Brings `count` elements from p into the cache, to be read (kForWriting false)
// or written soon, a line at a time (a count known at compile time unrolls).
template <bool kForWriting = false, typename Real>
FASTCTC_ALWAYS_INLINE void fetch_lines(const Real *p, int64_t count) {
    for (int64_t i = 0; i < count; i += kLineOf<Real>) __builtin_prefetch(p + i, kForWriting);
}

// Fetches a contiguous row of at most kChunkedRow classes into the cache, to be
// read (kForWriting false) or written soon.  A sequence's frames lie N C
// elements apart, too far for the hardware's prefetcher, so each row would
// otherwise wait on memory when it is first touched.  Null rows, strided and
// long ones are left alone.
template <bool kForWriting, typename Real>
FASTCTC_ALWAYS_INLINE void prefetch_short_row(const Real *row, int64_t classes, int64_t stride) {
    if (!row || stride != 1 || classes <= 0 || classes > kChunkedRow) return;
    fetch_lines<kForWriting>(row, classes);
    __builtin_prefetch(row + classes - 1, kForWriting);  // the last line, where the row does not start one
}

// Whether convert_chunk() takes chunks of Real: of floats, where AVX-512 is
// compiled.
template <typename Real>
inline constexpr bool kWholeChunkConversion =
#if defined(__AVX512F__)
    std::is_same_v<Real, float> && kChunk == 8;
#else
    false;
#endif

// x[k] = double(in[k]) for the kChunk contiguous elements of a chunk, where
// kWholeChunkConversion<Real>: with AVX-512, one conversion of eight floats into
// one 512-bit register, stored whole.  (GCC vectorises the loop over a chunk of
// floats in 256-bit halves, also where its doubles fill 512-bit registers: two
// 256-bit stores that a 512-bit load of x can only wait for, as the store buffer
// forwards neither to it.)
template <typename Real>
FASTCTC_ALWAYS_INLINE void convert_chunk([[maybe_unused]] const Real *in, [[maybe_unused]] double *x) {
    static_assert(kWholeChunkConversion<Real>);
#if defined(__AVX512F__)
    // All eight lanes, by a zeroing mask: _mm512_cvtps_pd() passes GCC 12 an
    // undefined source that -Wall takes for uninitialised.
    _mm512_store_pd(x, _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(in)));
#endif
}

// Whether transpose_rows() and write_transposed_rows() take rows of Real: of
// floats, where AVX-512 is compiled.
template <typename Real>
inline constexpr bool kRowTransposition = kWholeChunkConversion<Real>;

#if defined(__AVX512F__)
// The 8 x 8 block of floats whose row i is in[i], as rows of its columns.
FASTCTC_ALWAYS_INLINE void transpose_block(const __m256 *in, __m256 *out) {
    __m256 pairs[kChunk], quadruples[kChunk];
    for (int i = 0; i < kChunk; i += 2) {
        pairs[i] = _mm256_unpacklo_ps(in[i], in[i + 1]);
        pairs[i + 1] = _mm256_unpackhi_ps(in[i], in[i + 1]);
    }
    for (int i = 0; i < kChunk; i += 4) {
        quadruples[i] = _mm256_shuffle_ps(pairs[i], pairs[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        quadruples[i + 1] = _mm256_shuffle_ps(pairs[i], pairs[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        quadruples[i + 2] = _mm256_shuffle_ps(pairs[i + 1], pairs[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        quadruples[i + 3] = _mm256_shuffle_ps(pairs[i + 1], pairs[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int j = 0; j < kChunk / 2; ++j) {  // column j from the low halves, j + 4 from the high
        out[j] = _mm256_permute2f128_ps(quadruples[j], quadruples[j + 4], 0x20);
        out[j + 4] = _mm256_permute2f128_ps(quadruples[j], quadruples[j + 4], 0x31);
    }
}
#endif

// out[c * kChunk + w] = double(rows[w][c]) for c in [0, classes), w in [0,
// kChunk): eight contiguous rows of floats into one row of eight lanes (out:
// 64-byte aligned), where kRowTransposition<Real>.  Each chunk of eight classes
// of the rows is loaded whole (masked where a row is shorter), transposed in
// registers, and each class stored as one 512-bit vector.  On the way, each
// row's largest and smallest input go to max[w] and low[w], as the loop
// m = u > m ? u : m (and u < m) over the classes from the first gives them
// (the classes the last chunk repeats change neither).
template <typename Real>
FASTCTC_ALWAYS_INLINE void transpose_rows([[maybe_unused]] const Real *const *rows, [[maybe_unused]] int64_t classes,
                                          [[maybe_unused]] double *out, [[maybe_unused]] double *max,
                                          [[maybe_unused]] double *low) {
    static_assert(kRowTransposition<Real>);
#if defined(__AVX512F__)
    __m256 largest = _mm256_setzero_ps(), smallest = _mm256_setzero_ps();
    for_each_chunk(classes, [&](int64_t first, uint8_t present) FASTCTC_INLINE_LAMBDA {
        __m256 in[kChunk], by_class[kChunk];
        for (int w = 0; w < kChunk; ++w) in[w] = _mm256_maskz_loadu_ps(present, rows[w] + first);
        transpose_block(in, by_class);
        if (first == 0) largest = smallest = by_class[0];
        for (int k = 0; k < kChunk; ++k) {
            if (!(present >> k & 1)) continue;
            _mm512_store_pd(out + (first + k) * kChunk, _mm512_maskz_cvtps_pd(0xFF, by_class[k]));
            largest = _mm256_max_ps(by_class[k], largest);  // by_class[k] > largest ? by_class[k] : largest
            smallest = _mm256_min_ps(by_class[k], smallest);
        }
    });
    _mm512_storeu_pd(max, _mm512_maskz_cvtps_pd(0xFF, largest));
    _mm512_storeu_pd(low, _mm512_maskz_cvtps_pd(0xFF, smallest));
#endif
}

// rows[w][c] = Real(in[c * kChunk + w] * factor[w]) for c in [0, classes), w in
// [0, kChunk) where rows[w] is not null: the inverse of transpose_rows(), each
// class's eight products rounded to float in one vector, then transposed, each
// chunk of a row stored whole (masked where a row is shorter).  (The conversions
// take zeroing masks with every lane set, as in convert_chunk().)
template <typename Real>
FASTCTC_ALWAYS_INLINE void write_transposed_rows([[maybe_unused]] const double *in,
                                                 [[maybe_unused]] const double *factor,
                                                 [[maybe_unused]] int64_t classes, [[maybe_unused]] Real *const *rows) {
    static_assert(kRowTransposition<Real>);
#if defined(__AVX512F__)
    const __m512d factors = _mm512_loadu_pd(factor);
    for_each_chunk(classes, [&](int64_t first, uint8_t present) FASTCTC_INLINE_LAMBDA {
        __m256 by_class[kChunk], out[kChunk];
        for (int k = 0; k < kChunk; ++k) {
            const int64_t c = present >> k & 1 ? first + k : first;  // an absent class loads one present
            by_class[k] = _mm512_maskz_cvtpd_ps(0xFF, _mm512_mul_pd(_mm512_load_pd(in + c * kChunk), factors));
        }
        transpose_block(by_class, out);
        for (int w = 0; w < kChunk; ++w)
            if (rows[w]) _mm256_mask_storeu_ps(rows[w] + first, present, out[w]);
    });
#endif
}

// Whether a row is long and contiguous: read a cache line at a time.
inline bool is_long_row(int64_t classes, int64_t stride) { return stride == 1 && classes > kChunkedRow; }

// Calls element(c, k) for every c in [0, classes) of a long contiguous row
// (classes >= a line), a cache line of Real at a time (k: c's place in it), the
// last, partial line moved back to overlap the one before, as in
// for_each_in_chunks() (so a repeat must change nothing); before each line, the
// line of `next` (the row to be read after this one, or null) at the same place
// is fetched.  A row of a few kilobytes is a page of its own, where the
// hardware's prefetcher starts cold.  The pass that computes the exponentials
// fetches: their arithmetic hides the fetches, where the range pass, which does
// little else, waited on them (a third of the C=5000 loss alone's time).  The
// prefetches stay in this function's own body: GCC 12 deleted one made inside a
// lambda, taking the lambda for a function without effects.
template <typename Real, typename Element>
FASTCTC_ALWAYS_INLINE void for_each_in_lines(const Real *row, int64_t classes, const Real *next, Element element) {
    constexpr int kLine = kLineOf<Real>;
    const Real *fetched = next ? next : row;  // the row again: harmless, and no test in the loop
    int64_t start = 0;
    for (; start + kLine <= classes; start += kLine) {
        __builtin_prefetch(fetched + start);
#pragma omp simd
        for (int k = 0; k < kLine; ++k) element(start + k, k);
    }
    if (start == classes) return;
    __builtin_prefetch(fetched + classes - 1);
    start = classes - kLine;
#pragma omp simd
    for (int k = 0; k < kLine; ++k) element(start + k, k);
}

// The smallest and the largest of a long contiguous row, a cache line at a time.
// Per place in the line, then over the places: exact in any order.  A loop of its
// own, not for_each_in_lines(): that one's fetch (here of the row itself) and
// overlapped last line took 7% more instructions on the C=5000 loss alone
// (callgrind: 122.4 against 114.4 M a call).
template <typename Real>
inline RowRange<Real> contiguous_row_range(const Real *row, int64_t classes) {
    constexpr int kLine = kLineOf<Real>;
    Real mins[kLine], maxs[kLine];
    for (int k = 0; k < kLine; ++k) mins[k] = INFINITY, maxs[k] = -INFINITY;
    int64_t c = 0;
    for (; c + kLine <= classes; c += kLine) {
#pragma omp simd
        for (int k = 0; k < kLine; ++k) {
            mins[k] = row[c + k] < mins[k] ? row[c + k] : mins[k];
            maxs[k] = row[c + k] > maxs[k] ? row[c + k] : maxs[k];
        }
    }
    RowRange<Real> range = range_of_places<kLine>(mins, maxs);
    for (; c < classes; ++c) {
        range.min = row[c] < range.min ? row[c] : range.min;
        range.max = row[c] > range.max ? row[c] : range.max;
    }
    return range;
}

// Long contiguous rows a cache line at a time (above), other rows in chunks of
// kChunk (no remainder loop, which on short rows costs more than the rest).  A
// short contiguous row fetches all of `next` (the row to be read after this one,
// or null) first; a long row's exponentials fetch it (for_each_in_lines()).
// Forced inline: called out of line once a frame, it cost the class table of
// short rows a call and its saved registers (2% of the instructions of the
// loss alone of T=50 N=400 C=30 L=10 var).
template <typename Real>
FASTCTC_ALWAYS_INLINE RowRange<Real> row_range(const Real *row, int64_t classes, int64_t stride,
                                              const Real *next = nullptr) {
    if (is_long_row(classes, stride)) return contiguous_row_range(row, classes);
    prefetch_short_row<false>(next, classes, stride);
    return with_unit_stride(stride, [&](auto s) {
        // Per place in the chunk, then over the places; elements visited twice
        // change nothing.
        Real mins[kChunk], maxs[kChunk];
        for (int k = 0; k < kChunk; ++k) mins[k] = INFINITY, maxs[k] = -INFINITY;
        for_each_in_chunks(classes, [&](int64_t c, int k) {
            const Real x = row[c * s];
            mins[k] = x < mins[k] ? x : mins[k];
            maxs[k] = x > maxs[k] ? x : maxs[k];
        });
        return range_of_places<kChunk>(mins, maxs);
    });
}

// The sums of a row's exponentials take sixteen lanes: four vectors of sums side
// by side, where two waited on each addition before the next.
inline constexpr int kRowLanes = 16;

// Calls body(flushing), flushing a compile-time bool: whether some e^{x - max}
// of the row, x - max taken in Exp (the type the exponentials take), can be
// below ExpTraits<Exp>::kLowest and flush to 0.  Rows where none can (all but
// extreme ones) skip exp_nonpositive()'s clamping, which changes nothing there:
// x - max >= min - max, rounded the same way.  (A NaN range takes the second:
// NaN stays NaN either way.)
template <typename Exp, typename Real, typename Body>
FASTCTC_ALWAYS_INLINE auto with_flushing(RowRange<Real> range, Body body) {
    const bool may_flush = Exp(range.min) - Exp(range.max) < ExpTraits<Exp>::kLowest;
    return may_flush ? body(std::true_type{}) : body(std::false_type{});
}

// e^{x - max} in Real, for with_flushing()'s body.
template <typename Real, typename Flushing>
FASTCTC_ALWAYS_INLINE Real exp_below_max(Real x, Real max, Flushing) {
    return exp_nonpositive<Real, ExpTraits<Real>::kDegree, Flushing::value>(Real(x - max));
}

// ln sum_c e^{row[c]}, the exponentials summed as they are computed (for the
// decoders, which keep no row of their own; the kernels store them first:
// normaliser_of_stored()).
template <typename Real>
inline double log_normaliser(const Real *row, int64_t classes, int64_t stride) {
    const RowRange<Real> range = row_range(row, classes, stride);
    const Real max = range.max;
    const double sum = with_flushing<Real>(range, [&](auto flushing) {
        return with_unit_stride(stride, [&](auto s) {
            return lane_sum<double, kRowLanes>(
                classes, [&](int64_t c) { return double(exp_below_max(row[c * s], max, flushing)); });
        });
    });
    return double(max) + log_nonnegative(sum);
}

// Stores e^{row[c] - max} in out[c * out_stride] (range: the row's), then sums
// them in double, the same terms in the same lanes as log_normaliser().  Two
// loops, one that only computes and stores and one that only sums, run faster
// than one that does both (measured: 0.52 against 0.62 ns an element on rows of
// 5000 in cache), whose sums' lanes compilers keep in memory.  next: the row to
// be read after this one, or null, which a long row fetches (for_each_in_lines()).
template <typename Real>
inline double stored_exponentials_sum(const Real *row, int64_t classes, int64_t stride, RowRange<Real> range,
                                      Real *out, int64_t out_stride, const Real *next) {
    const Real max = range.max;  // a copy: range.max might be stored to by out, the compiler fears
    return with_unit_stride(out_stride, [&](auto os) {
        with_flushing<Real>(range, [&](auto flushing) {
            if (is_long_row(classes, stride)) {
                for_each_in_lines(row, classes, next,
                                  [&](int64_t c, int) { out[c * os] = exp_below_max(row[c], max, flushing); });
                return 0;
            }
            return with_unit_stride(stride, [&](auto s) {
                for (int64_t c = 0; c < classes; ++c) out[c * os] = exp_below_max(row[c * s], max, flushing);
                return 0;
            });
        });
        return lane_sum<double, kRowLanes>(classes, [&](int64_t c) { return double(out[c * os]); });
    });
}

// ln sum_c e^{row[c]}, the exponentials stored in exps [C] first: the same bits
// as log_normaliser().  next: the row to be read after this one, or null.
template <typename Real>
inline double normaliser_of_stored(const Real *row, int64_t classes, int64_t stride, Real *exps, const Real *next) {
    const RowRange<Real> range = row_range(row, classes, stride, next);
    return double(range.max) + log_nonnegative(stored_exponentials_sum(row, classes, stride, range, exps, 1, next));
}

// out[c] *= factor over a contiguous row, line by line, each line's place in
// `next` (a row of as many elements, or null) fetched for writing first.  (In a
// function of its own, not a lambda: GCC 12 deleted a prefetch made inside a
// lambda, taking the lambda for a function without effects.)
template <typename Real>
inline void scale_fetching(Real *out, int64_t classes, Real factor, const Real *next) {
    constexpr int kLine = kLineOf<Real>;
    int64_t start = 0;
    for (; start + kLine <= classes; start += kLine) {
        __builtin_prefetch(next + start, 1);
#pragma omp simd
        for (int k = 0; k < kLine; ++k) out[start + k] *= factor;
    }
    if (start < classes) __builtin_prefetch(next + classes - 1, 1);
    for (; start < classes; ++start) out[start] *= factor;
}

// out[c] = scale * softmax(row)[c]; returns ln sum_c e^{row[c]}.  The row is
// read from memory once: the exponentials are stored in out, then summed and
// rescaled while out is still in cache.  next: as for normaliser_of_stored();
// next_out: the output row to be written after this one, or null, fetched as
// out is rescaled where both are contiguous (see kFetchedGradRowBytes).
template <typename Real>
inline double write_scaled_softmax(const Real *row, int64_t classes, int64_t stride, double scale, Real *out,
                                   int64_t out_stride, const Real *next, const Real *next_out) {
    const RowRange<Real> range = row_range(row, classes, stride, next);
    const double sum = stored_exponentials_sum(row, classes, stride, range, out, out_stride, next);
    const Real factor = Real(scale / sum);
    if (next_out && out_stride == 1) {
        scale_fetching(out, classes, factor, next_out);
    } else {
        with_unit_stride(out_stride, [&](auto os) {
            for (int64_t c = 0; c < classes; ++c) out[c * os] *= factor;
            return 0;
        });
    }
    return double(range.max) + log_nonnegative(sum);
}

template <typename Real>
inline void write_zeros(int64_t classes, Real *out, int64_t out_stride) {
    for (int64_t c = 0; c < classes; ++c) out[c * out_stride] = Real(0);
}

// A long contiguous gradient row of at most this many bytes fetches the next
// one (the same sequence's next frame, N C elements on) as it rescales its
// softmax (write_scaled_softmax()), so that the stores of the next frame find
// their lines in the cache: on T=250 N=32 L=60 var with two threads, 5% less
// time with C = 1024 and 10% with C = 600 (float32).  Larger rows (fetched as
// the exponentials were computed): C = 2000, 8 kilobytes, took 10% more time
// (its two rows fetched ahead, input and gradient, and the two being worked on
// fill much of the L1), C = 5000 1%.
inline constexpr int64_t kFetchedGradRowBytes = 4096;

// A contiguous row of at least this many bytes is zeroed with streaming stores
// (measured on T=250 N=32 C=1024 with variable lengths, a fifth of whose
// gradient rows are padding: about 2% less time on two threads).
inline constexpr int64_t kStreamedRowBytes = 2048;

// write_zeros(), for a gradient row that nothing reads again during the call (a
// frame past the input length): a long contiguous row with streaming stores,
// which write whole lines without reading them into the cache first, and leave
// the cache to the rows still being worked on.  Returns whether it streamed: then
// call finish_streamed_stores() after the last such row.
template <typename Real>
inline bool write_streamed_zeros(int64_t classes, Real *out, int64_t out_stride) {
#if defined(__SSE2__)
    const int64_t bytes = classes * int64_t(sizeof(Real));
    if (out_stride == 1 && bytes >= kStreamedRowBytes) {
        char *const begin = reinterpret_cast<char *>(out), *const end = begin + bytes;
        char *const first = begin + (16 - reinterpret_cast<uintptr_t>(begin) % 16) % 16;  // 16-byte aligned
        char *const last = first + (end - first) / 16 * 16;
        std::memset(begin, 0, size_t(first - begin));
        for (char *p = first; p < last; p += 16)
            _mm_stream_si128(reinterpret_cast<__m128i *>(p), _mm_setzero_si128());
        std::memset(last, 0, size_t(end - last));
        return true;
    }
#endif
    write_zeros(classes, out, out_stride);
    return false;
}

inline void finish_streamed_stores() {
#if defined(__SSE2__)
    _mm_sfence();  // the streamed stores are visible before any store after them
#endif
}

// The first read of frame t: returns its log normaliser (0 for log-scores) and,
// when a gradient is requested, initialises the gradient row while the input
// row is hot: scale * softmax for logits, 0 for log-scores and occupancies.
// The kernels then correct only the entries of the label's classes.  exps: [C],
// where a normaliser without a gradient row stores its exponentials.
template <typename Real>
inline double read_frame(const Sequence<Real> &seq, int64_t t, Real *exps) {
    const Real *row = seq.input_row(t);
    const Real *next = seq.next_input_row(t);
    const auto normaliser = [&] {
        return seq.log_probs ? 0.0 : normaliser_of_stored(row, seq.num_classes, seq.input_class_stride, exps, next);
    };
    if (!seq.grad) return normaliser();
    if (seq.log_probs || seq.occupancy) {
        write_zeros(seq.num_classes, seq.grad_row(t), seq.grad_class_stride);
        return normaliser();
    }
    return write_scaled_softmax(row, seq.num_classes, seq.input_class_stride, seq.grad_scale, seq.grad_row(t),
                                seq.grad_class_stride, next,
                                seq.num_classes * int64_t(sizeof(Real)) <= kFetchedGradRowBytes ? seq.next_grad_row(t)
                                                                                                : nullptr);
}

}  // namespace fastctc::FASTCTC_ISA
