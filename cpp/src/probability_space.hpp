// The forward-backward lattice in probability space with block scales: the
// fast number system.
//
// Notation as in forward_backward.hpp.  Graves et al. 2006 (Section 4.1,
// eqs. (12)-(13)) rescale each frame's row as a whole; but on long inputs the
// mass of a row spreads over more than the 600-odd decades a double holds (the
// forward mass runs ahead of the posterior by e^{-cT}), and whatever underflows
// is silently lost.  So a row is cut into blocks of kBlockLabels label positions
// (with their blanks), each with its own scale: the row value is
// values[s] * 2^{scales[block(s)] + offset}.  Scales are integers (held in
// doubles, exactly), so every factor between blocks or rows is an exact power
// of two, made from its exponent bits with no exponential and no rounding.  The
// block scales are kept relative to the row's largest; the offset, which grows
// with t, enters only the loss.  Neighbouring states differ little, far-apart
// ones may differ by any amount.
//
// Emissions are scaled per frame: eps_t(s) = y^t_{l'_s} / e^{log_scale_t}, where
// e^{log_scale_t} is the largest y among the label's classes at frame t.  For
// logits read through a class table they are the y themselves (log_scale_t =
// 0): a table of every class's e^{u - max u}, in double, gives the softmax's
// sum, the softmax that starts the gradient row and the emissions in one sweep,
// with C exponentials instead of C (in float) and |l| + 1: the faster way when
// uses_class_table(C, |l|).  No logarithm of the row's sum is then taken: the
// block scales carry the loss's magnitude, and the gradient needs no factor.  For
// float inputs the exponentials in double (the table's, and the label's
// emissions read without one) take a polynomial of degree kFloatInputDegree
// instead of 13 (2.8e-10 relative: float32 results stay correctly rounded;
// float's own polynomial, 8e-8, moved float32 gradients by up to 4 ulps on long
// inputs).  Either way of reading a frame gives the loss alone
// and the loss with the gradient the same emissions.
//
// What the path can vouch for (the caller takes the log-space path otherwise):
// - a row is exact if no value in it underflowed: no new state value came out
//   below kTiny although its exact value is positive, and no block factor or
//   emission flushed to zero.  A loss from exact rows is right to rounding.
// - whatever underflows is below about 1e-303 in its block's units before the
//   block is normalised by its sum sigma; in normalised units alpha and beta
//   are at most 1, so its share of p(l|x) is at most (1e-303 / sigma) / Z_t,
//   where Z_t is the frame's occupancy normaliser (products()).  So with a
//   gradient, frame t is vouched for if min(sigma) * Z_t >= 1e-280 over both its
//   rows (shares below 1e-23), even when far tails of a row underflowed, as they
//   do on long inputs.
// - the loss alone, when its forward rows are not exact, by what they can have
//   lost (lost_exponent()): a state value computed in units 2^u (its block's
//   unit, below) lost at most kTiny 2^u to underflow, or to an emission or a
//   factor that flushed (each at most 6 2^{u - 1000} or 6 e^{-708} 2^u); by
//   linearity such a loss d at state s of frame t takes d beta_t(s) from p(l|x),
//   with the exact beta_t.  An upper bound of beta_t (backward_step<W, true>():
//   kTiny added to every value, which covers whatever its own step can lose)
//   then bounds the whole loss from frame `first` (the first not exact) on:
//   sum over t >= first and blocks k of 64 kTiny 2^{u_t(k)} 2 2^{b_t(k)} (a block
//   holds at most 64 states, the upper bound's normalised values sum below 2 in
//   its scale b), and the loss is vouched for when that is at most kLostShare
//   p(l|x), with p(l|x) the forward pass's own (never above the exact one but
//   for rounding, which the bound's factor 2 covers).  Only the rows' scales
//   take part: no row is kept (certify_loss() in forward_backward.hpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "chunked_loop.hpp"
#include "frame.hpp"
#include "isa.hpp"
#include "lane_sum.hpp"
#include "lattice_check.hpp"
#include "pack.hpp"
#include "scratch.hpp"
#include "sequence.hpp"
#include "vector_math.hpp"

namespace fastctc::FASTCTC_ISA {

struct ProbabilitySpace {
    static constexpr bool kExact = false;
    static constexpr bool kClassTable = true;
    // A state value below this with positive factors may have lost digits or vanished.
    static constexpr double kTiny = 1e-290;
    // A block factor 2^{difference of scales} below 2^this counts as flushed.
    static constexpr double kFlushes = -1000.0;
    // The bound on what underflow can have cost a frame: min(sigma) * Z_t.
    static constexpr double kSmallestSumTimesZ = 1e-280;
    // The share of p(l|x) the loss alone may have lost to underflow and still be
    // vouched for (see above).
    static constexpr double kLostShare = 1e-23;
    static constexpr double kLn2 = 0.69314718055994530942;
    // The exponentials' polynomial for float inputs (see above), and for inputs
    // of type Real.
    static constexpr int kFloatInputDegree = 8;
    template <typename Real>
    static constexpr int kInputDegree = std::is_same_v<Real, float> ? kFloatInputDegree : ExpTraits<double>::kDegree;

    static int64_t row_size(int64_t labels) { return lattice_row_size(labels); }
    static int64_t blocks(int64_t labels) { return labels / kBlockLabels + 1; }

    // Frame t's scaled emissions, blank first, then each label position;
    // returns log_scale_t.
    template <typename Real>
    static double emissions(const Sequence<Real> &seq, int64_t t, double log_norm, double *e, RowCheck *check) {
        const Real *row = seq.input_row(t);
        const int64_t stride = seq.input_class_stride, labels = seq.label.label_length();
        const int32_t *label = seq.label.labels();
        e[0] = double(row[seq.label.blank() * stride]);
        for (int64_t j = 0; j < labels; ++j) e[1 + j] = double(row[label[j] * stride]);
        // The largest, in a loop of its own: gathered and compared in one loop, each
        // comparison waits for the one before.
        double shift = e[0];
#pragma omp simd reduction(max : shift)  // max is exact: the order cannot change it
        for (int64_t k = 1; k <= labels; ++k) shift = e[k] > shift ? e[k] : shift;
        // Element by element, vectorised whole (no scalar remainder: a label of 60
        // left 5 of 61 exponentials to it, costing as much as the 56 before them).
        int flushes[kChunk] = {};
        transform_in_chunks(labels + 1, e, [&](double logit, int k) {
            const double x = logit - shift;
            flushes[k] |= int((x < ExpTraits<double>::kLowest) & (logit > -INFINITY));
            return exp_nonpositive<double, kInputDegree<Real>>(x);  // NaN stays NaN
        });
        int flushed = 0;
        for (int k = 0; k < kChunk; ++k) flushed |= flushes[k];
        check->exact = check->exact && !flushed;
        check->sound = check->sound && shift > -INFINITY && shift < INFINITY && log_norm == log_norm;
        return shift - log_norm;
    }

    // A class table entry, e^{u - max} in double: a lower degree for float
    // inputs (see above), the clamping only with kMayFlush (exp_nonpositive()).
    template <bool kMayFlush, typename Real>
    FASTCTC_ALWAYS_INLINE static double table_entry(Real u, double max) {
        return table_entry_of<kMayFlush, Real>(double(u), max);
    }
    // The same of an input of type Real already in double.
    template <bool kMayFlush, typename Real>
    FASTCTC_ALWAYS_INLINE static double table_entry_of(double u, double max) {
        return exp_nonpositive<double, kInputDegree<Real>, kMayFlush>(u - max);
    }

    // Frames of logits are read through a table of e^{u_c - max u} (class_exps,
    // [C]) in two halves: fill_class_table() fills and sums it,
    // emissions_from_table() divides by the sum (entry points below).

    // What fill_class_table() learns of a frame: its largest input, whether an
    // exponential can have flushed, and the table's sum.
    struct ClassTable {
        double max;
        bool may_flush;
        double sum;
    };

    // Frame t of logits into class_exps.  The clamping only where an exponential
    // can flush (with_flushing()); a long row fetches the next one as it goes
    // (for_each_in_lines()).  Each loop takes a lambda of its own: GCC did not
    // inline one lambda passed to both, and the loops then did not vectorise.
    // A short row is summed in sum_in_chunks()'s order, either as it is filled
    // (kSumWhileFilling) or in a second pass over the table.  A group's lanes
    // sum as they fill: a second pass read the table back through 512-bit loads
    // (AVX-512) of what 256-bit stores had just written, which the store buffer
    // cannot forward (a third of the class table's time on T=50 N=400 C=30
    // L=10 var); summing while filling took it 3% less time, its loss alone 5%.
    // One sequence, whose emissions read the table at once, sums after: summing
    // while filling took T=800 N=16 C=32 L=150 var 2-3% more time.  With
    // AVX-512 (which runs groups of eight lanes), a group lane converts each
    // chunk of float inputs whole first (convert_chunk()), and its exponentials
    // then take one 512-bit vector a chunk instead of two 256-bit ones: 4-5%
    // less time on T=150 N=32 C=28 L=40, 9-10% on T=50 N=400 C=30 L=10 var,
    // 10-14% for their losses alone.
    template <bool kSumWhileFilling, typename Real>
    FASTCTC_ALWAYS_INLINE static ClassTable fill_class_table(const Sequence<Real> &seq, int64_t t,
                                                             double *class_exps) {
        const Real *row = seq.input_row(t);
        const int64_t classes = seq.num_classes, stride = seq.input_class_stride;
        const Real *next = seq.next_input_row(t);
        const RowRange<Real> range = row_range(row, classes, stride, next);
        const double max = double(range.max);
        double sum = 0.0;
        const bool may_flush = with_flushing<double>(range, [&](auto flushing) FASTCTC_INLINE_LAMBDA {
            constexpr bool kMayFlush = decltype(flushing)::value;
            if (is_long_row(classes, stride)) {
                for_each_in_lines(row, classes, next, [&](int64_t c, int) {
                    class_exps[c] = table_entry<kMayFlush>(row[c], max);
                });
                sum = lane_sum(classes, [&](int64_t c) { return class_exps[c]; });
            } else if constexpr (kSumWhileFilling) {
                const auto entry = [&](double u, int64_t c) FASTCTC_INLINE_LAMBDA {
                    return class_exps[c] = table_entry_of<kMayFlush, Real>(u, max);
                };
                if constexpr (kWholeChunkConversion<Real>) {
                    if (stride == 1 && classes >= kChunk) {
                        sum = sum_in_loaded_chunks(
                            classes, [&](int64_t start, double *x) { convert_chunk(row + start, x); }, entry);
                        return kMayFlush;
                    }
                }
                sum = with_unit_stride(stride, [&](auto s) {
                    return sum_in_chunks(classes, [&](int64_t c) { return entry(double(row[c * s]), c); });
                });
            } else {
                with_unit_stride(stride, [&](auto s) {
                    for_each_in_chunks(
                        classes, [&](int64_t c, int) { class_exps[c] = table_entry<kMayFlush>(row[c * s], max); });
                    return 0;
                });
                sum = sum_in_chunks(classes, [&](int64_t c) { return class_exps[c]; });
            }
            return kMayFlush;
        });
        return {max, may_flush, sum};
    }

    // Frame t's emissions from its class table: the softmax's entries (entry k at
    // e[k * e_stride]); the gradient row starts as scale * softmax (0 for the
    // posteriors).  e_stride is a compile-time constant (1 for one sequence, W
    // for a group's lanes: an std::integral_constant), so that the emissions'
    // scattered stores take no multiplications (1-1.7% of the instructions of the
    // short shapes).
    template <typename Real, typename Stride>
    FASTCTC_ALWAYS_INLINE static void emissions_from_table(const Sequence<Real> &seq, int64_t t,
                                                           const double *class_exps, const ClassTable &table,
                                                           double *e, Stride e_stride, RowCheck *check) {
        const int64_t classes = seq.num_classes, labels = seq.label.label_length();
        const int32_t *label = seq.label.labels();
        const double inverse = 1.0 / table.sum;
        e[0] = class_exps[seq.label.blank()] * inverse;
#pragma omp simd  // element by element: loads gathered into vectors, the same bits
        for (int64_t j = 0; j < labels; ++j) e[(1 + j) * e_stride] = class_exps[label[j]] * inverse;
        if (seq.grad && seq.occupancy) write_zeros(classes, seq.grad_row(t), seq.grad_class_stride);
        if (seq.grad && !seq.occupancy) {
            prefetch_short_row<true>(seq.next_grad_row(t), classes, seq.grad_class_stride);
            Real *grad_row = seq.grad_row(t);
            const double factor = seq.grad_scale * inverse;
            with_unit_stride(seq.grad_class_stride, [&](auto s) {
                for_each_in_chunks(classes, [&](int64_t c, int) { grad_row[c * s] = Real(class_exps[c] * factor); });
                return 0;
            });
        }
        table_verdict(seq, t, table, check);
    }

    // What frame t's emissions from its class table can vouch for: a label
    // position whose exponential flushed to 0 lost its probability.  That needs an
    // input more than -kLowest below the largest, which is rare: only then are
    // the label's classes checked.
    template <typename Real>
    FASTCTC_ALWAYS_INLINE static void table_verdict(const Sequence<Real> &seq, int64_t t, const ClassTable &table,
                                                    RowCheck *check) {
        const int64_t labels = seq.label.label_length();
        const int32_t *label = seq.label.labels();
        bool flushed = false;
        if (table.may_flush) {
            const Real *row = seq.input_row(t);
            const auto flushes = [&](int64_t k) {
                const double x = double(row[k * seq.input_class_stride]);
                return (x - table.max < ExpTraits<double>::kLowest) && x > -INFINITY;
            };
            for (int64_t j = 0; j < labels && !flushed; ++j) flushed = flushes(label[j]);
            flushed = flushed || flushes(seq.label.blank());
        }
        check->exact = check->exact && !flushed;
        check->sound = check->sound && sound_table(table);
    }
    // Whether a table can stand at all: a finite largest input and a sum that is
    // a number (lane_class_tables() asks it too, to pick the lanes to look at).
    static bool sound_table(const ClassTable &table) {
        return table.max > -INFINITY && table.max < INFINITY && table.sum == table.sum;
    }

    // The entry points, out of line (inlined into frame_emissions(), the
    // one-sequence reading cost the path that reads large alphabets 0.5-0.7%
    // more instructions).  One sequence reads a frame in one call,
    // class_emissions(), which returns its log_scale_t = 0.  A group calls
    // class_table() for each lane and then table_emissions() for each
    // (grouped_lattice.hpp), so that the lanes' chains of exponentials, sum and
    // division overlap: 4-5% less time on T=150 N=32 C=28 L=40, 8-12% for its
    // loss alone (BENCHMARKS.md).  One sequence read in two calls took 3-6% more
    // time on T=800 N=16 C=32 L=150 with the gradient.
    template <typename Real>
    FASTCTC_NOINLINE static double class_emissions(const Sequence<Real> &seq, int64_t t, double *class_exps, double *e,
                                                   RowCheck *check) {
        emissions_from_table(seq, t, class_exps, fill_class_table<false>(seq, t, class_exps), e,
                             std::integral_constant<int64_t, 1>{}, check);
        return 0.0;
    }
    template <typename Real>
    FASTCTC_NOINLINE static ClassTable class_table(const Sequence<Real> &seq, int64_t t, double *class_exps) {
        return fill_class_table<true>(seq, t, class_exps);
    }
    template <typename Real, int W>
    FASTCTC_NOINLINE static void table_emissions(const Sequence<Real> &seq, int64_t t, const double *class_exps,
                                                 const ClassTable &table, double *lanes, RowCheck *check) {
        emissions_from_table(seq, t, class_exps, table, lanes, std::integral_constant<int64_t, W>{}, check);
    }

    // Whether a group of W lanes whose sequences read frames of Real through
    // class tables fills them together (lane_class_tables()): eight lanes of
    // floats (kRowTransposition) whose contiguous rows fill_class_table() sums
    // in sum_in_chunks()'s order (not long ones), and whose gradient rows, if
    // any, are contiguous and start from the softmax (lane_grad_rows()).
    template <int W, typename Real>
    static constexpr bool kLaneTables = kRowTransposition<Real> && W == kChunk;
    template <int W, typename Real>
    static bool fills_lane_tables(const Sequence<Real> &seq) {
        return kLaneTables<W, Real> && seq.input_class_stride == 1 && !is_long_row(seq.num_classes, 1) &&
               (!seq.grad || (seq.grad_class_stride == 1 && !seq.occupancy));
    }

    // The class tables of W lanes at one frame, filled together (where
    // fills_lane_tables()): lane w's row at rows[w], its entry c at
    // class_exps[c * W + w] and its ClassTable at tables[w], the values,
    // flushing verdict and sum fill_class_table() gives it alone: the largest
    // input is exact in any order, every exponential is clamped (which changes
    // none that does not flush), and each place of sum_in_chunks() has an
    // accumulator of its own, combined in its order.  Each class's exponentials
    // then take one vector for all lanes, and the lanes' sums no horizontal
    // additions.  inverse[w]: 1 / the sum, the factor of the lane's emissions
    // and gradient row (lane_emissions(), lane_grad_rows()), taken once.
    // next_rows: the rows read next, or null, fetched.  (A lane whose sequence
    // has ended passes any row of the batch; its table is not read.)  Returns
    // the lanes (bit w) whose tables table_verdict() must look at: those not
    // sound or whose exponentials may have flushed; of the others it finds
    // nothing.
    template <int W, typename Real>
    FASTCTC_NOINLINE static uint8_t lane_class_tables(const Real *const *rows, const Real *const *next_rows,
                                                      int64_t classes, double *class_exps, ClassTable *tables,
                                                      double *inverse) {
        static_assert(kLaneTables<W, Real>);
        for (int w = 0; w < W; ++w) prefetch_short_row<false>(next_rows[w], classes, 1);
        double max[W], low[W];
        transpose_rows(rows, classes, class_exps, max, low);
        // Place k's sums (sum_in_loaded_chunks()): classes k, k + kChunk, ..., and
        // of a last chunk moved back to overlap the one before, its new classes.
        double places[kChunk][W] = {};
        const auto add_class = [&](int64_t c, int place) FASTCTC_INLINE_LAMBDA {
            double *entries = class_exps + c * W;
#pragma omp simd
            for (int w = 0; w < W; ++w) {
                entries[w] = table_entry_of<true, Real>(entries[w], max[w]);
                places[place][w] += entries[w];
            }
        };
        if (classes < kChunk) {
            for (int64_t c = 0; c < classes; ++c) add_class(c, int(c));
        } else {
            int64_t first = 0;
            for (; first + kChunk <= classes; first += kChunk)
#pragma GCC unroll 8
                for (int k = 0; k < kChunk; ++k) add_class(first + k, k);
            for (int64_t c = first; c < classes; ++c) add_class(c, int(c - (classes - kChunk)));
        }
        // Each lane's places combined as added_lanes() combines one lane's, all
        // lanes at once, and their inverses in one division.
        Pack<W> lane_places[kChunk];
        for (int k = 0; k < kChunk; ++k) lane_places[k] = Pack<W>::load(places[k]);
        const Pack<W> sums = added_lanes(lane_places);
        (Pack<W>::all(1.0) / sums).store(inverse);
        uint8_t doubtful = 0;
        for (int w = 0; w < W; ++w) {
            tables[w] = {max[w], low[w] - max[w] < ExpTraits<double>::kLowest, sums[w]};
            doubtful = uint8_t(doubtful | (tables[w].may_flush || !sound_table(tables[w]) ? 1u << w : 0u));
        }
        return doubtful;
    }

    // Where lane_emissions() takes each lane's emissions from: for the group's
    // label positions i in [0, room] (0 the blank, i the label's position i - 1),
    // positions[i * W + w] = the class's entry of lane w in the lane tables (class
    // * W + w), and bit w of present[i] set where i is within lane w's label.
    template <int W, typename Real>
    static void lane_positions(const Sequence<Real> *seqs, int64_t room, int32_t *positions, uint8_t *present) {
        for (int64_t i = 0; i <= room; ++i) {
            present[i] = 0;
            for (int w = 0; w < W; ++w) {
                const ExtendedLabel &label = seqs[w].label;
                const bool within = i <= label.label_length();
                positions[i * W + w] = int32_t((within ? (i == 0 ? label.blank() : label.labels()[i - 1]) : 0) * W + w);
                present[i] = uint8_t(present[i] | (within ? 1u << w : 0u));
            }
        }
    }

#if defined(__AVX512F__)
    // base[index[w]] in lane w, for eight indices: eight loads, paired and
    // inserted.  One vgatherdpd of eight doubles took 19 cycles a vector on Zen 5
    // (a loop of 41 independent ones, as lane_emissions() runs), these loads 6.
    FASTCTC_ALWAYS_INLINE static __m512d loaded_lanes(const double *base, const int32_t *index) {
        const auto pair = [&](int w) {
            return _mm_loadh_pd(_mm_load_sd(base + index[w]), base + index[w + 1]);
        };
        const __m256d low = _mm256_insertf128_pd(_mm256_castpd128_pd256(pair(0)), pair(2), 1);
        const __m256d high = _mm256_insertf128_pd(_mm256_castpd128_pd256(pair(4)), pair(6), 1);
        // All eight lanes, by a zeroing mask: _mm512_insertf64x4() passes GCC 12 an
        // undefined source that -Wall takes for uninitialised (as in convert_chunk()).
        return _mm512_maskz_insertf64x4(0xFF, _mm512_castpd256_pd512(low), high, 1);
    }
#endif

    // Frame t's emissions of the W lanes from their lane tables, as
    // emissions_from_table() takes each (the class's entry times the lane's
    // inverse sum, from lane_class_tables()), a label position of all lanes in
    // one vector (loaded_lanes()): entry i of lane w at e[i * W + w], 0 past the
    // lane's label and in the lanes not in `active` (whose sequences have ended).
    // Each lane's table_verdict() is its own.
    template <int W>
    FASTCTC_NOINLINE static void lane_emissions([[maybe_unused]] const int32_t *positions,
                                                [[maybe_unused]] const uint8_t *present,
                                                [[maybe_unused]] uint8_t active, [[maybe_unused]] int64_t room,
                                                [[maybe_unused]] const double *class_exps,
                                                [[maybe_unused]] const double *inverse, [[maybe_unused]] double *e) {
        static_assert(W == kChunk);
#if defined(__AVX512F__)
        const __m512d inverses = _mm512_loadu_pd(inverse);
        for (int64_t i = 0; i <= room; ++i) {
            const __mmask8 lanes = present[i] & active;
            const __m512d y = loaded_lanes(class_exps, positions + i * W);
            _mm512_storeu_pd(e + i * W, _mm512_maskz_mul_pd(lanes, y, inverses));
        }
#endif
    }

    // The gradient rows of frame t of the W lanes' sequences that have one, from
    // their lane tables and inverse sums (lane_class_tables()): scale * softmax,
    // the products emissions_from_table() takes, written together
    // (write_transposed_rows()); lanes whose sequences have ended are left alone.
    template <int W, typename Real>
    FASTCTC_NOINLINE static void lane_grad_rows(const Sequence<Real> *seqs, int64_t t, const double *class_exps,
                                                const double *inverse) {
        static_assert(kLaneTables<W, Real>);
        const int64_t classes = seqs[0].num_classes;
        double factor[W];
        Real *rows[W];
        for (int w = 0; w < W; ++w) {
            const bool ended = t >= seqs[w].frames;
            factor[w] = ended ? 0.0 : seqs[w].grad_scale * inverse[w];
            rows[w] = ended ? nullptr : seqs[w].grad_row(t);
            if (!ended) prefetch_short_row<true>(seqs[w].next_grad_row(t), classes, 1);
        }
        write_transposed_rows(class_exps, factor, classes, rows);
    }

    // y = eps * e^{log_scale}: the factor once per frame, then a product per class.
    // (log_scale <= 0 for logits, whose emissions are divided by at least their
    // largest, and 0 through the class table; log-scores, which take no factor,
    // may have any.)
    static double emission_factor(double log_scale) {
        if (log_scale == 0.0) return 1.0;
        return log_scale < 0.0 ? exp_nonpositive(log_scale) : std::exp(log_scale);
    }
    static double probability(double e, double factor) { return e * factor; }

    // alpha_0: a path starts in the first blank or the first label (eq. (6)).
    // For W sequences side by side (as the steps below), labels the longest:
    // the others' emissions past their labels are 0, their rows' extra states
    // stay 0 and their extra blocks empty, so each lane gets its sequence's own
    // row, laid out as copy_into_lane() lays it.
    template <int W = 1>
    static void forward_first(const double *e, int64_t labels, double *row, RowCheck *check) {
        using V = Pack<W>;
        first_or_last<W>(row, labels, 0, V::load(e), 0, labels > 0 ? V::load(e + W) : V::all(0.0), check);
    }

    // beta_{T-1}: a path ends in the last label or the final blank.
    static void backward_last(int64_t labels, double *row, RowCheck *check) {
        using V = Pack<1>;
        first_or_last<1>(row, labels, labels, V::all(1.0), labels > 0 ? labels - 1 : 0, V::all(labels > 0 ? 1.0 : 0.0),
                         check);
    }

    // The two steps below (and products()) advance W sequences side by side
    // (pack.hpp): the rows, the emissions and skip hold each entry's W values
    // together, labels is the longest label (the others padded with zero
    // emissions, so their extra states stay 0 and add nothing), and check[w] is
    // lane w's.  A block empty in some lanes only is computed in all of them:
    // its factors there are 0, so in a lane whose rows are sound its values come
    // out 0 (what clear_block() writes) and its scale -inf, as for one sequence.

    // alpha_t from alpha_{t-1} (eqs. (6)-(7)): a blank comes from itself or the
    // previous label; a label from itself, the previous blank, or (if allowed)
    // the previous label.  With kExactness, every value is checked for
    // underflow (the loss alone needs it; the gradient's bound does not).
    // fetch: the emissions of frame t + 1 (the next step's), or null, brought
    // into the cache block by block as these are read, as in backward_step(): a
    // shared sequence's forward pass reads frames another thread wrote (T=5000
    // N=1 L=1000 on two threads: its loss alone 18-21% less time, with the
    // gradient 4-6%).
    template <bool kExactness, int W = 1>
    static void forward_step(const double *prev, const double *e, const double *skip, int64_t labels, double *row,
                             RowCheck *check, const double *fetch = nullptr) {
        using V = Pack<W>;
        const auto at = [](const double *p, int64_t i) { return V::load(p + i * W); };
        const double *prev_blank = prev, *prev_label = prev + (labels + 1) * W,
                     *prev_scale = prev + (2 * labels + 1) * W;
        double *blank = row, *label = row + (labels + 1) * W, *scale = row + (2 * labels + 1) * W;
        const int64_t count = blocks(labels);
        BlockSums<W> sums;
        for (int64_t k = 0; k < count; ++k) {
            const int64_t first = k * kBlockLabels, blank_end = block_end(k, labels + 1),
                          label_end = block_end(k, labels);
            const BlockFactors<W> f =
                block_factors(at(prev_scale, k), k > 0 ? at(prev_scale, k - 1) : V::all(-INFINITY), &sums);
            if (all_of(f.empty)) {
                clear_block<W>(blank, label, first, blank_end, label_end, scale + k * W);
                continue;
            }
            // The block's own positions i: state arrays shifted by `first`.
            const double *pb = prev_blank + first * W, *pl = prev_label + first * W, *el = e + (1 + first) * W,
                         *sk = skip + first * W;
            double *b = blank + first * W, *l = label + first * W;
            // Its first position also takes what flows in from block k - 1.
            const V in = first > 0 ? at(pl, -1) : V::all(0.0), e0 = at(e, 0);
            with_block_sizes(blank_end - first, label_end - first, [&](auto blanks, auto block_labels) {
                if (fetch) fetch_lines(fetch + (1 + first) * W, block_labels * W);  // the block's emissions
                // Computes the block's values, showing each to watch (see update()).
                const auto compute = [&](auto watch) {
                    update(&b[0], e0, f.own * at(pb, 0) + f.incoming * in, e0, at(pb, 0) + in, watch);
                    if (block_labels > 0)
                        update(&l[0], at(el, 0),
                               f.own * (at(pl, 0) + at(pb, 0)) + f.incoming * (at(sk, 0) * in), at(el, 0),
                               (at(pl, 0) + at(pb, 0)) + at(sk, 0) * in, watch);
                    const V e_blank = e0 * f.own;
                    for (int64_t i = 1; i < blanks; ++i) {
                        const V sum = at(pb, i) + at(pl, i - 1);
                        update(&b[i * W], e_blank, sum, e0, sum, watch);
                    }
                    for (int64_t i = 1; i < block_labels; ++i) {
                        const V sum = (at(pl, i) + at(pb, i)) + at(sk, i) * at(pl, i - 1);
                        update(&l[i * W], at(el, i) * f.own, sum, at(el, i), sum, watch);
                    }
                    return watch;
                };
                if constexpr (kExactness) {
                    // Zeros that lose nothing (states not reached yet, a group's
                    // padding) are below kTiny too: where they are expected (the
                    // block's last blank had no mass), each value is asked whether
                    // it underflowed; elsewhere only a block with a value below kTiny
                    // (most have none) is computed again, the same values, to ask.
                    const bool zeros_expected = any_of(at(pb, blanks - 1) == V::all(0.0));
                    if (zeros_expected || any_of(compute(BelowTiny<W>{}).found))
                        sums.underflow |= compute(Underflowed<W>{}).found;
                } else {
                    compute(Unwatched{});
                }
                block_computed<W>(b, l, blanks, block_labels, f.unit, scale + k * W, &sums);
            });
        }
        row_computed<W>(blank, label, labels, scale, &sums);
        finish_row<W>(scale, count, at(prev_scale, count), sums, check);
    }

    // beta_t (ours, without the emission at t) from beta_{t+1} and the
    // emissions e of frame t + 1: a blank goes to itself or the next label; a
    // label to itself, the next blank, or (if allowed) the next label.  No value
    // needs checking here: what underflows is bounded in products().  With
    // kUpperBound, kTiny (in the block's units) is added to every value of a
    // block with mass: more than its step can lose to underflow or to a factor
    // or an emission that flushed (see lost_exponent()), so that from an upper
    // bound of beta_{t+1} the row is one of beta_t, to rounding.  fetch: the
    // emissions of frame t (the next step's), or null, brought into the cache
    // block by block as these are read: a long sequence keeps every frame's
    // emissions, and the backward pass walks them from its last frame down, out
    // of the hardware prefetcher's reach (with the products' fetch, 16-21% less
    // time on T=5000 N=1 L=1000).
    template <int W = 1, bool kUpperBound = false>
    static void backward_step(const double *next, const double *e, const double *skip, int64_t labels, double *row,
                              RowCheck *check, const double *fetch = nullptr) {
        using V = Pack<W>;
        const auto at = [](const double *p, int64_t i) { return V::load(p + i * W); };
        const auto put = [](V value, double *to) FASTCTC_INLINE_LAMBDA {
            (kUpperBound ? value + V::all(kTiny) : value).store(to);
        };
        const double *next_blank = next, *next_label = next + (labels + 1) * W,
                     *next_scale = next + (2 * labels + 1) * W;
        double *blank = row, *label = row + (labels + 1) * W, *scale = row + (2 * labels + 1) * W;
        const V e_blank = at(e, 0);
        const int64_t count = blocks(labels);
        BlockSums<W> sums;
        for (int64_t k = count - 1; k >= 0; --k) {
            const int64_t first = k * kBlockLabels, blank_end = block_end(k, labels + 1),
                          label_end = block_end(k, labels);
            const BlockFactors<W> f =
                block_factors(at(next_scale, k), k + 1 < count ? at(next_scale, k + 1) : V::all(-INFINITY), &sums);
            if (all_of(f.empty)) {
                clear_block<W>(blank, label, first, blank_end, label_end, scale + k * W);
                continue;
            }
            // The block's own positions i: state arrays shifted by `first`.
            const double *nb = next_blank + first * W, *nl = next_label + first * W, *el = e + (1 + first) * W,
                         *sk = skip + first * W;
            double *b = blank + first * W, *l = label + first * W;
            // Position i's two states: blank i goes to itself or label i, label i to
            // itself, blank i + 1 or (if allowed) label i + 1; both take label i's
            // path, computed once.  Only the row's last block has a blank more than
            // labels: the final one.  (Forced inline: GCC left this body out of line
            // for eight lanes, 2-3% more instructions.)
            const auto block = [&](auto blanks, auto block_labels) FASTCTC_INLINE_LAMBDA {
                if (fetch) fetch_lines(fetch + (1 + first) * W, block_labels * W);  // the block's emissions
                for (int64_t i = 0; i + 1 < block_labels; ++i) {
                    const V to_label = at(el, i) * at(nl, i);
                    put(f.own * (e_blank * at(nb, i) + to_label), &b[i * W]);
                    put(f.own * ((to_label + e_blank * at(nb, i + 1)) + at(sk, i + 1) * (at(el, i + 1) * at(nl, i + 1))),
                        &l[i * W]);
                }
                // The block's last label also takes what flows in from block k + 1
                // (unless this is the last block, where its successors are inside).
                if (block_labels > 0) {
                    const int64_t i = block_labels - 1;
                    const V to_label = at(el, i) * at(nl, i);
                    put(f.own * (e_blank * at(nb, i) + to_label), &b[i * W]);
                    const V successors =
                        e_blank * at(nb, i + 1) +
                        (first + i + 1 < labels ? at(sk, i + 1) * (at(el, i + 1) * at(nl, i + 1)) : V::all(0.0));
                    put(f.own * to_label + (i + 1 < blanks ? f.own : f.incoming) * successors, &l[i * W]);
                }
                if (blanks > block_labels) put(f.own * (e_blank * at(nb, block_labels)), &b[block_labels * W]);
                block_computed<W>(b, l, blanks, block_labels, f.unit, scale + k * W, &sums);
            };
            with_block_sizes(blank_end - first, label_end - first, block);
        }
        row_computed<W>(blank, label, labels, scale, &sums);
        finish_row<W>(scale, count, at(next_scale, count), sums, check);
    }

    // Lane w of a row of W sequences with room for `room` labels (see the
    // steps) from one sequence's row with `labels` <= room, and back.
    static void copy_into_lane(const double *row, int64_t labels, double *lanes, int64_t room, int W, int w) {
        const int64_t count = blocks(labels), room_count = blocks(room);
        for (int64_t s = 0; s < 2 * room + 1; ++s) lanes[s * W + w] = 0.0;
        for (int64_t j = 0; j <= labels; ++j) lanes[j * W + w] = row[j];
        for (int64_t j = 0; j < labels; ++j) lanes[(room + 1 + j) * W + w] = row[labels + 1 + j];
        const double *scale = row + 2 * labels + 1;
        double *lane_scale = lanes + (2 * room + 1) * W + w;
        for (int64_t k = 0; k < room_count; ++k) lane_scale[k * W] = k < count ? scale[k] : -INFINITY;
        lane_scale[room_count * W] = scale[count];  // the offset
        lane_scale[(room_count + 1) * W] = scale[count + 1];  // the smallest block sum
    }
    static void copy_from_lane(const double *lanes, int64_t room, int W, int w, int64_t labels, double *row) {
        const int64_t count = blocks(labels), room_count = blocks(room);
        for (int64_t j = 0; j <= labels; ++j) row[j] = lanes[j * W + w];
        for (int64_t j = 0; j < labels; ++j) row[labels + 1 + j] = lanes[(room + 1 + j) * W + w];
        double *scale = row + 2 * labels + 1;
        const double *lane_scale = lanes + (2 * room + 1) * W + w;
        for (int64_t k = 0; k < count; ++k) scale[k] = lane_scale[k * W];
        scale[count] = lane_scale[room_count * W];
        scale[count + 1] = lane_scale[(room_count + 1) * W];
    }
    // ln of the last forward row's mass in the two final states (eq. (8)).
    static double log_end(const double *row, int64_t labels, RowCheck *check) {
        const double *scale = row + 2 * labels + 1;
        const double offset = scale[blocks(labels)];
        const double a = std::log(row[labels]) + (scale[labels / kBlockLabels] + offset) * kLn2;  // the final blank
        const double b = labels > 0 ? std::log(row[2 * labels]) + (scale[(labels - 1) / kBlockLabels] + offset) * kLn2
                                    : -INFINITY;
        const double m = a > b ? a : b;
        check->sound = check->sound && m > -INFINITY && m < INFINITY;
        return m + std::log(std::exp(a - m) + std::exp(b - m));
    }

    // The loss alone's bound (see the header) reads rows by their scales: a
    // row's block scales and offset, frame_scale_count(labels) doubles
    // (blocks(labels) + 1) from scales_of(row), kept for frame t in a record of
    // every frame's at t * frame_scale_count(labels).
    static const double *scales_of(const double *row, int64_t labels) { return row + 2 * labels + 1; }
    static void keep_scales(const double *row, int64_t labels, double *record, int64_t t) {
        const int64_t count = frame_scale_count(labels);
        const double *scales = scales_of(row, labels);
        for (int64_t k = 0; k < count; ++k) record[t * count + k] = scales[k];
    }
    static const double *kept_scales(const double *record, int64_t labels, int64_t t) {
        return record + t * frame_scale_count(labels);
    }

    // What frame t's forward row can have lost, as a power of two: the largest
    // u_t(k) + b_t(k) over its blocks k (see the header), -inf where none has
    // mass in both rows.  u_t(k), the unit forward_step() computed block k in,
    // is the larger scale of blocks k and k - 1 of row t - 1 plus its offset
    // (before: that row's scales; null for frame 0, whose values
    // forward_first() computes in units 1); b_t(k), block k's scale in the
    // upper bound of beta_t plus its offset (after: that row's scales).
    static double lost_exponent(const double *before, const double *after, int64_t labels) {
        const int64_t count = blocks(labels);
        double top = -INFINITY;
        for (int64_t k = 0; k < count; ++k) {
            const double unit =
                before ? (k > 0 && before[k - 1] > before[k] ? before[k - 1] : before[k]) + before[count] : 0.0;
            const double exponent = unit + (after[k] + after[count]);
            top = exponent > top ? exponent : top;
        }
        return top;
    }

    // Whether the loss alone may rest on forward rows that lost values from
    // frame `first` on: their loss, at most (T - first) blocks(labels) terms of
    // 64 kTiny 2^u 2 2^b, each at most 2^top (top: the largest lost_exponent()
    // over those frames), with a factor 2 for rounding, is at most kLostShare
    // p(l|x), whose logarithm the forward pass found (log_end(), in the rows'
    // units).
    static bool lost_within_share(double top, int64_t frames_from_first, int64_t labels, double log_end) {
        const double terms = double(frames_from_first) * double(blocks(labels));
        return std::log2(terms * 256.0 * kTiny) + top <= log_end / kLn2 + std::log2(kLostShare);
    }

    // products[s] proportional to alpha_t(s) beta_t(s), each block weighted by
    // 2^{its scales - the largest}, for W sequences side by side (as for the
    // steps); sums[w] receives lane w's sums, whose total is Z_t.  Trusted if
    // Z_t and the rows' smallest block sums bound what underflow can have cost.
    // fetch: a row of the same shape (the next frame's kept row) brought into the
    // cache block by block as these are multiplied, or null (see backward_step()).
    // For one sequence, each product is added to its lane as it is made, the
    // last partial round's once all are made (total_with_rest(); lane_sum()'s
    // lanes and order, so the same sums).
    template <int W = 1>
    static void products(const double *alpha, const double *beta, int64_t labels, double *out, ProductSums *sums,
                         const double *fetch = nullptr) {
        using V = Pack<W>;
        const auto at = [](const double *p, int64_t i) { return V::load(p + i * W); };
        const int64_t count = blocks(labels);
        const double *alpha_scale = alpha + (2 * labels + 1) * W, *beta_scale = beta + (2 * labels + 1) * W;
        V top = V::all(-INFINITY);
        for (int64_t k = 0; k < count; ++k) top = larger(at(alpha_scale, k) + at(beta_scale, k), top);
        using Lanes = Pack<kLanes>;
        Lanes blank_lanes = Lanes::all(0.0), label_lanes = Lanes::all(0.0);  // for one sequence
        for (int64_t k = 0; k < count; ++k) {
            const V weight = select(top > V::all(-INFINITY),
                                    power_of_two(at(alpha_scale, k) + at(beta_scale, k) - top), V::all(0.0));
            const int64_t first = k * kBlockLabels, label_first = labels + 1 + first;
            with_block_sizes(block_end(k, labels + 1) - first, block_end(k, labels) - first,
                             [&](auto blanks, auto block_labels) {
                                 if (fetch) {
                                     fetch_lines(fetch + first * W, blanks * W);
                                     fetch_lines(fetch + label_first * W, block_labels * W);
                                 }
                                 if constexpr (W > 1) {
                                     for (int64_t i = first; i < first + blanks; ++i)
                                         ((at(alpha, i) * at(beta, i)) * weight).store(out + i * W);
                                     for (int64_t i = label_first; i < label_first + block_labels; ++i)
                                         ((at(alpha, i) * at(beta, i)) * weight).store(out + i * W);
                                 } else {  // first is a multiple of kLanes: entry first + i goes to lane i mod 8
                                     add_products(alpha + first, beta + first, blanks, weight[0], &blank_lanes,
                                                  out + first);
                                     add_products(alpha + label_first, beta + label_first, block_labels, weight[0],
                                                  &label_lanes, out + label_first);
                                 }
                             });
        }
        V blank_sum, label_sum;
        if constexpr (W > 1) {
            blank_sum = lane_sum<V>(labels + 1, [&](int64_t j) { return at(out, j); });
            label_sum = lane_sum<V>(labels, [&](int64_t j) { return at(out, labels + 1 + j); });
        } else {
            // The last partial rounds (the last block's), made by add_products().
            blank_sum = {total_with_rest(blank_lanes, out, (labels + 1) / kLanes * kLanes, labels + 1)};
            label_sum = {total_with_rest(label_lanes, out + labels + 1, labels / kLanes * kLanes, labels)};
        }
        const V z = blank_sum + label_sum;
        const V alpha_smallest = at(alpha_scale, count + 1), beta_smallest = at(beta_scale, count + 1);
        const V smallest = select(alpha_smallest < beta_smallest, alpha_smallest, beta_smallest);
        const Mask<W> trusted = (z < V::all(INFINITY)) & (smallest * z >= V::all(kSmallestSumTimesZ));
        for (int w = 0; w < W; ++w) sums[w] = {blank_sum[w], label_sum[w], trusted[w]};
    }

private:
    // lanes[i mod 8] += (a[i] * b[i]) * weight for the full rounds of i in [0, n),
    // in turn, eight at a time, each product also stored to out[i]; the products
    // of the last partial round are only stored (only a row's last block has
    // one, below), for total_with_rest() to add.
    static_assert(kBlockLabels % kLanes == 0, "a full block is whole rounds of lane_sum()'s lanes");
    template <typename Count>
    FASTCTC_ALWAYS_INLINE static void add_products(const double *a, const double *b, Count n, double weight,
                                                   Pack<kLanes> *lanes, double *out) {
        using Lanes = Pack<kLanes>;
        int64_t i = 0;
        for (; i + kLanes <= n; i += kLanes) {
            const Lanes v = (Lanes::load(a + i) * Lanes::load(b + i)) * Lanes::all(weight);
            v.store(out + i);
            *lanes += v;
        }
        for (; i < n; ++i) out[i] = (a[i] * b[i]) * weight;
    }
    // The total of lane_sum()'s lanes whose full rounds are summed in `lanes`,
    // the terms [from, to) of its last partial round added lane by lane (as
    // lane_sum() adds them: term from + k to lane k) and the lanes combined as it
    // combines them (added_lanes()).  The lanes are stored first, and the rest
    // added to them there: a vector loaded from a round of terms stored one by
    // one waited on stores the core cannot forward (as in normalise_blocks()).
    FASTCTC_ALWAYS_INLINE static double total_with_rest(Pack<kLanes> lanes, const double *terms, int64_t from,
                                                        int64_t to) {
        double lane[kLanes];
        lanes.store(lane);
        for (int64_t j = from; j < to; ++j) lane[j - from] += terms[j];
        return added_lanes(lane);
    }

    // lane_sum() of the entries [0, n) of a block's array (of W sequences side
    // by side).  For one sequence, each full round of kLanes entries is one
    // Pack<kLanes>, the last partial round (the row's last block) added by
    // total_with_rest(): GCC left lane_sum()'s rounds of doubles here scalar, 62
    // additions a block, and T=5000 N=1 L=1000's loss alone took 9% more time on
    // one thread.
    template <int W, typename Count>
    FASTCTC_ALWAYS_INLINE static Pack<W> block_sum(const double *values, Count n) {
        using V = Pack<W>;
        if constexpr (W == 1) {
            using Lanes = Pack<kLanes>;
            Lanes lanes = Lanes::all(0.0);
            int64_t i = 0;
            for (; i + kLanes <= n; i += kLanes) lanes += Lanes::load(values + i);
            return V{total_with_rest(lanes, values, i, n)};
        } else {
            return lane_sum<V>(n, [&](int64_t i) { return V::load(values + i * W); });
        }
    }

    template <int W>
    struct BlockFactors {
        Mask<W> empty;    // neither this block nor its neighbour has mass
        Pack<W> unit;     // the scale the new values are computed in
        Pack<W> own;      // 2^{this block's scale - unit}
        Pack<W> incoming; // 2^{the neighbour's scale - unit}
    };

    // What a row's blocks report while it is computed.
    template <int W>
    struct BlockSums {
        Mask<W> underflow{};                                // a value or factor may have lost digits
        Pack<W> smallest = Pack<W>::all(INFINITY);          // the smallest sum of a nonempty block, before normalising
        Mask<W> broken{};                                   // a NaN or infinite sum
    };

    static int64_t block_end(int64_t k, int64_t size) {
        const int64_t end = (k + 1) * kBlockLabels;
        return end < size ? end : size;
    }

    // Where neither block has mass, unit is -inf, own and incoming NaN and both
    // factors 0.
    template <int W>
    static BlockFactors<W> block_factors(Pack<W> own_scale, Pack<W> neighbour_scale, BlockSums<W> *sums) {
        using V = Pack<W>;
        const V unit = larger(own_scale, neighbour_scale), own = own_scale - unit, incoming = neighbour_scale - unit;
        const V flushes = V::all(kFlushes), nothing = V::all(-INFINITY);
        // A block with mass whose factor flushes loses it.
        sums->underflow |= ((own < flushes) & (own_scale > nothing)) | ((incoming < flushes) & (neighbour_scale > nothing));
        return {!(unit > nothing), unit, power_of_two(own), power_of_two(incoming)};
    }

    // *value = factor * sum: the emission and the predecessors' sum, the block
    // factors taken into one of them (into the emission at a block's inner
    // positions, into each predecessor at its first, which takes from two
    // blocks); watch(value, emission, unscaled_sum) sees it, unscaled_sum being
    // the predecessors' sum without the factors.
    template <int W, typename Watch>
    static void update(double *value, Pack<W> factor, Pack<W> sum, Pack<W> emission, Pack<W> unscaled_sum,
                       Watch &watch) {
        const Pack<W> v = factor * sum;
        v.store(value);
        watch(v, emission, unscaled_sum);
    }

    // The watches of update(): none; whether a value came out below kTiny; and
    // whether one underflowed: came out below kTiny although its exact value is
    // positive (a positive emission and a positive unscaled sum).
    struct Unwatched {
        template <int W>
        void operator()(Pack<W>, Pack<W>, Pack<W>) {}
    };
    template <int W>
    struct BelowTiny {
        Mask<W> found{};
        void operator()(Pack<W> v, Pack<W>, Pack<W>) { found |= v < Pack<W>::all(kTiny); }
    };
    template <int W>
    struct Underflowed {
        Mask<W> found{};
        void operator()(Pack<W> v, Pack<W> emission, Pack<W> unscaled_sum) {
            const Pack<W> zero = Pack<W>::all(0.0);
            found |= (v < Pack<W>::all(kTiny)) & (emission > zero) & (unscaled_sum > zero);
        }
    };

    template <int W>
    static void clear_block(double *blank, double *label, int64_t first, int64_t blank_end, int64_t label_end,
                            double *scale) {
        for (int64_t j = first * W; j < blank_end * W; ++j) blank[j] = 0.0;
        for (int64_t j = first * W; j < label_end * W; ++j) label[j] = 0.0;
        Pack<W>::all(-INFINITY).store(scale);
    }

    // Calls body(blanks, labels) with a block's numbers of blank and label
    // positions, as compile-time constants for a full block (every block of a row
    // but the last), so that its loops have no remainder to handle.  Forced
    // inline: with the backward step's body forced into it, GCC left it out of
    // line, and one sequence's backward step took twice the instructions
    // (callgrind, T=800 N=16 L=150 with the gradient: 119 M a call against 167 M).
    template <typename Body>
    FASTCTC_ALWAYS_INLINE static void with_block_sizes(int64_t blanks, int64_t labels, Body body) {
        using Full = std::integral_constant<int64_t, kBlockLabels>;
        if (blanks == kBlockLabels && labels == kBlockLabels)
            body(Full{}, Full{});
        else
            body(blanks, labels);
    }

    // Divides a block's values (blank[0, blanks), label[0, labels)) by the power
    // of two nearest below their sum (exactly, with no division or logarithm:
    // they then sum to [1, 2)) and records its scale (-inf for an empty block,
    // whose values stay).
    template <int W, typename Count>
    FASTCTC_ALWAYS_INLINE static void normalise_block(double *blank, double *label, Count blanks, Count labels,
                                                      Pack<W> unit, double *scale, BlockSums<W> *sums) {
        using V = Pack<W>;
        const V sum = block_sum<W>(blank, blanks) + block_sum<W>(label, labels);
        const Mask<W> broken = !(sum < V::all(INFINITY));  // NaN or inf
        const Mask<W> has_mass = !((sum == V::all(0.0)) | broken);
        sums->broken |= broken;
        sums->smallest = select(has_mass & (sum < sums->smallest), sum, sums->smallest);
        const V exponent = exponent_of(sum);  // sum is normal where it has mass
        if (any_of(has_mass)) {
            const V inverse = select(has_mass, power_of_two(V::all(0.0) - exponent), V::all(1.0));
            for (int64_t i = 0; i < blanks; ++i) (V::load(blank + i * W) * inverse).store(blank + i * W);
            for (int64_t i = 0; i < labels; ++i) (V::load(label + i * W) * inverse).store(label + i * W);
        }
        select(has_mass, unit + exponent, V::all(-INFINITY)).store(scale);
    }

    // A step's block computed in units `unit`, and then its whole row: a group's
    // block is normalised at once (normalise_block()), one sequence's once the
    // row is computed (normalise_blocks(); its unit waits in its scale).  One
    // sequence's block normalised at once was read back from the store buffer
    // in loads that straddled its stores (the forward step computes a block's
    // first position alone, the backward step its last), which the core cannot
    // forward: with the sums of block_sum(), T=5000 N=1 L=1000 took 12-16% more
    // time for its loss alone on one thread.  A group's lanes are whole vectors:
    // for them the second pass over the row cost 1-4%.
    template <int W, typename Count>
    FASTCTC_ALWAYS_INLINE static void block_computed(double *blank, double *label, Count blanks, Count labels,
                                                     Pack<W> unit, double *scale, BlockSums<W> *sums) {
        if constexpr (W == 1)
            unit.store(scale);
        else
            normalise_group_block<W>(blank, label, blanks, labels, unit, scale, sums);
    }
    // Out of line, as GCC had left normalise_block() for groups before one
    // sequence's normalise_blocks() needed it inlined: inlined into a group's
    // steps too, it cost T=150 N=32 C=28 L=40 and T=50 N=400 L=10 4-13% more time.
    template <int W, typename Count>
    FASTCTC_NOINLINE static void normalise_group_block(double *blank, double *label, Count blanks, Count labels,
                                                       Pack<W> unit, double *scale, BlockSums<W> *sums) {
        normalise_block<W>(blank, label, blanks, labels, unit, scale, sums);
    }
    template <int W>
    FASTCTC_ALWAYS_INLINE static void row_computed(double *blank, double *label, int64_t labels, double *scale,
                                                   BlockSums<W> *sums) {
        if constexpr (W == 1) normalise_blocks<W>(blank, label, labels, scale, sums);
    }

    // normalise_block() of each block of a row computed in units scale[k], but
    // of those cleared (-inf in every lane), which stay.
    template <int W>
    static void normalise_blocks(double *blank, double *label, int64_t labels, double *scale, BlockSums<W> *sums) {
        using V = Pack<W>;
        for (int64_t k = 0; k < blocks(labels); ++k) {
            const V unit = V::load(scale + k * W);
            if (!any_of(unit > V::all(-INFINITY))) continue;
            const int64_t first = k * kBlockLabels;
            with_block_sizes(block_end(k, labels + 1) - first, block_end(k, labels) - first,
                             [&](auto blanks, auto block_labels) {
                                 normalise_block<W>(blank + first * W, label + first * W, blanks, block_labels,
                                                    unit, scale + k * W, sums);
                             });
        }
    }

    // Makes the block scales relative to the largest, which joins the row's
    // offset (the previous row's plus it), records the smallest block sum, and
    // reports the row.
    template <int W>
    static void finish_row(double *scale, int64_t count, Pack<W> previous_offset, const BlockSums<W> &sums,
                           RowCheck *check) {
        using V = Pack<W>;
        V top = V::all(-INFINITY);
        for (int64_t k = 0; k < count; ++k) top = larger(V::load(scale + k * W), top);
        const Mask<W> sound = (!sums.broken) & (top > V::all(-INFINITY)) & (top < V::all(INFINITY));
        for (int64_t k = 0; k < count; ++k) {
            const V s = V::load(scale + k * W);
            select(sound, s - top, s).store(scale + k * W);
        }
        (previous_offset + select(sound, top, V::all(0.0))).store(scale + count * W);
        sums.smallest.store(scale + (count + 1) * W);
        for (int w = 0; w < W; ++w) {
            check[w].sound = check[w].sound && sound[w];
            check[w].exact = check[w].exact && !sums.underflow[w];
        }
    }

    // A row that is zero but for a blank and a label state, each in its block
    // (of W sequences side by side).
    template <int W>
    static void first_or_last(double *row, int64_t labels, int64_t blank_position, Pack<W> blank_value,
                              int64_t label_position, Pack<W> label_value, RowCheck *check) {
        const int64_t count = blocks(labels);
        double *blank = row, *label = row + (labels + 1) * W, *scale = row + (2 * labels + 1) * W;
        for (int64_t s = 0; s < (2 * labels + 1) * W; ++s) row[s] = 0.0;
        blank_value.store(blank + blank_position * W);
        if (labels > 0) label_value.store(label + label_position * W);
        for (int64_t k = 0; k < count; ++k) Pack<W>::all(0.0).store(scale + k * W);  // units 1
        BlockSums<W> sums;
        normalise_blocks<W>(blank, label, labels, scale, &sums);
        finish_row<W>(scale, count, Pack<W>::all(0.0), sums, check);
    }
};

}  // namespace fastctc::FASTCTC_ISA
