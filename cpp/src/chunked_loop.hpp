// Loops over short rows without a remainder loop.
//
// A vectorised loop over n elements ends with a scalar remainder of up to a
// vector's worth of elements; on rows of a few dozen (the classes of a small
// vocabulary) the remainder, its bookkeeping and the reductions' spills cost
// more than the vector part.  for_each_in_chunks() instead visits [0, n) in
// chunks of kChunk consecutive elements, each loop of a compile-time count that
// compilers vectorise whole, and when kChunk does not divide n it moves the last
// chunk back so that it ends at n, overlapping the one before: some elements
// are visited twice.  So the body must give the same result when repeated: a
// write of a value that depends only on the element, a min or a max.
#pragma once

#include <cstdint>

#include "isa.hpp"
#include "lane_sum.hpp"

namespace fastctc::FASTCTC_ISA {

inline constexpr int kChunk = 8;

// Calls element(i, k) for every i in [0, n), some twice (see above), where k,
// in [0, kChunk), is i's place in its chunk: per-place accumulators indexed by k
// vectorise with the chunk.  Rows shorter than a chunk take one plain loop.
template <typename Element>
FASTCTC_ALWAYS_INLINE void for_each_in_chunks(int64_t n, Element element) {
    if (n < kChunk) {
        for (int64_t i = 0; i < n; ++i) element(i, int(i));
        return;
    }
    for (int64_t start = 0;; start += kChunk) {
        if (start > n - kChunk) start = n - kChunk;
#pragma omp simd
        for (int k = 0; k < kChunk; ++k) element(start + k, k);
        if (start == n - kChunk) return;
    }
}

// The chunks of for_each_in_chunks() whole: chunk(first, present) for each
// chunk of kChunk elements starting at first, the last moved back to overlap the
// one before; a row shorter than a chunk is one chunk at 0 whose `present` mask
// has its elements only (bit k: element first + k).  For loops that load and
// store a chunk at a time (frame.hpp's transpositions).
template <typename Chunk>
FASTCTC_ALWAYS_INLINE void for_each_chunk(int64_t n, Chunk chunk) {
    if (n < kChunk) {
        chunk(0, uint8_t((1u << n) - 1));
        return;
    }
    for (int64_t first = 0;; first += kChunk) {
        if (first > n - kChunk) first = n - kChunk;
        chunk(first, uint8_t(0xFF));
        if (first == n - kChunk) return;
    }
}

// sum over i in [0, n) of a term of element i, in double, in the chunks of
// for_each_in_chunks() but each element once: place k's lane takes elements k,
// k + kChunk, ... and, from a last chunk moved back to overlap the one before,
// only its new elements (the repeated places add 0); the lanes are then combined
// pairwise.  An order fixed by the source, as lane_sum()'s, and the same as
// lane_sum<double, kChunk>()'s where n < kChunk or kChunk divides n.  A term may
// compute a value and store it (a sum taken as a table is filled) or read one
// stored before.
//
// Here each chunk's inputs are loaded first: load(start, x) writes those of
// elements start, ..., start + kChunk - 1 into x, as doubles, and element i's
// term is term(x[k], i).  Needs n >= kChunk.
template <typename Load, typename Term>
FASTCTC_ALWAYS_INLINE double sum_in_loaded_chunks(int64_t n, Load load, Term term) {
    double lane[kChunk] = {};
    const auto add_chunk = [&](int64_t start, int summed) FASTCTC_INLINE_LAMBDA {
        alignas(64) double x[kChunk];
        load(start, x);
#pragma omp simd
        for (int k = 0; k < kChunk; ++k) {
            const double value = term(x[k], start + k);
            lane[k] += k >= summed ? value : 0.0;
        }
    };
    int64_t start = 0;
    for (; start + kChunk <= n; start += kChunk) add_chunk(start, 0);
    if (start < n) add_chunk(n - kChunk, int(start - (n - kChunk)));  // its first places already added
    return added_lanes(lane);
}

// The same with nothing loaded: element i's term is term(i).
template <typename Term>
FASTCTC_ALWAYS_INLINE double sum_in_chunks(int64_t n, Term term) {
    if (n < kChunk) {
        double lane[kChunk] = {};
        for (int64_t i = 0; i < n; ++i) lane[i] += term(i);
        return added_lanes(lane);
    }
    return sum_in_loaded_chunks(
        n, [](int64_t, double *) {}, [&](double, int64_t i) { return term(i); });
}

// values[i] = f(values[i], k) for every i in [0, n), in chunks of kChunk with no
// remainder loop, as for_each_in_chunks() (k: i's place in its chunk).  The last
// chunk, when it overlaps the one before, is computed from its inputs as they
// were, saved first: an element computed twice gets the same value both times.
// So f may update per-place accumulators only in ways a repeat cannot change (a
// min, a max, an or).
template <typename T, typename F>
FASTCTC_ALWAYS_INLINE void transform_in_chunks(int64_t n, T *values, F f) {
    if (n < kChunk) {
        for (int64_t i = 0; i < n; ++i) values[i] = f(values[i], int(i));
        return;
    }
    const int64_t last = n - kChunk;
    T last_inputs[kChunk];
    for (int k = 0; k < kChunk; ++k) last_inputs[k] = values[last + k];
    for (int64_t start = 0; start + kChunk <= n; start += kChunk) {
#pragma omp simd
        for (int k = 0; k < kChunk; ++k) values[start + k] = f(values[start + k], k);
    }
    if (n % kChunk != 0) {
#pragma omp simd
        for (int k = 0; k < kChunk; ++k) values[last + k] = f(last_inputs[k], k);
    }
}

}  // namespace fastctc::FASTCTC_ISA
