// The scratch memory the per-sequence kernels work in, carved from the
// caller's workspace by workspace.cpp: plain pointers, and the sizes they are
// carved to.
#pragma once

#include <cstdint>

#include "class_slots.hpp"

namespace fastctc {

// Label positions per block of a probability-space lattice row (see
// probability_space.hpp), and the doubles a row takes: the 2 |l| + 1 states,
// one scale per block, the row's offset and its smallest block sum.  static:
// compiled into each unit that uses it.
inline constexpr int64_t kBlockLabels = 32;
static inline int64_t lattice_row_size(int64_t labels) { return 2 * labels + 1 + labels / kBlockLabels + 3; }

// The loss alone of a sequence whose forward rows lost values to underflow
// keeps, for its certification, each frame's block scales and offset
// (ForwardPass): this many doubles a frame (ProbabilitySpace::keep_scales()).
// static, as lattice_row_size().
static inline int64_t frame_scale_count(int64_t labels) { return labels / kBlockLabels + 2; }

// One sequence's lattice (forward_backward.hpp).  Rows hold the |l| + 1 blank
// states first, then the |l| label states, then (in probability space) the
// block scales; lattice_row_size() doubles each.
struct LatticeScratch {
    double *alpha;              // forward rows: all frames with a gradient (which, when one
                                // sequence is shared by several threads, keep backward
                                // ones there too: lattice_shared_sequence()); 2 for the
                                // loss alone of a sequence not shared, else none
    double *beta;               // backward rows: 2 (with a gradient; the loss alone's
                                // certification), 4 when shared (the rolling rows of
                                // both passes)
    double *forward_scales;     // the loss alone: T frames' frame_scale_count(|l|)
    double *backward_scales;    // the loss alone when shared: as forward_scales
    double *emissions;          // per frame: the |l| + 1 emissions (blank, then labels);
                                // all frames with a gradient or a shared sequence, else 2
    double *log_scale;          // per frame: the log of the factor taken out of its emissions
    double *skip;               // [|l|] 1 where a path may skip the blank into label j, else 0
    LabelSlots slots;

    // Where frame t's forward row (rows of row_size) and its emissions (a label
    // of `labels`) lie when every frame keeps its own.
    double *alpha_row(int64_t t, int64_t row_size) const { return alpha + t * row_size; }
    double *emissions_of(int64_t t, int64_t labels) const { return emissions + t * (labels + 1); }
};

// Whether frames of logits are read through a table of every class's
// exponential (see ProbabilitySpace::class_emissions): C exponentials in double
// instead of C in float, |l| + 1 in double and a logarithm.  Measured in
// instructions per call (callgrind; BENCHMARKS.md), the table takes fewer up
// to C of about 2 (|l| + 1) + 100: 18% fewer at C = 30 with labels of 5 to 10,
// 5% at C = 140 with |l| = 20, 2% more at C = 220 with |l| = 40 (7% for the loss
// alone).  static, as lattice_row_size().
static inline bool uses_class_table(int64_t classes, int64_t labels) {
    return classes <= 102 || (classes - 101) / 2 <= labels;  // C <= 2 |l| + 102, without overflow
}

// Sequences with labels of at most kGroupedLabels positions are computed
// side by side (grouped_lattice.hpp): with the gradient, kWideGroup at a time
// while every thread can take such groups and their rows are small, then
// kGroupSize at a time (plan_layout() in workspace.cpp); groupable() says
// which.  A wide group pays a row's block bookkeeping once for eight lanes
// instead of four: 4% fewer instructions on T=50 N=400 C=30 L=10 var, 6% on
// T=40 N=64 C=28 L=50 var (BENCHMARKS.md).  static, as lattice_row_size().
inline constexpr int kGroupSize = 4;
inline constexpr int kWideGroup = 8;
inline constexpr int64_t kGroupedLabels = 2 * kBlockLabels;
static inline bool groupable(int64_t frames, int64_t labels) {
    return frames > 0 && labels <= kGroupedLabels && labels <= frames;
}

// A group's lattice: rows, emissions and skip hold each entry's values of the
// group's lanes together (pack.hpp), sized for the group's longest label.
struct GroupScratch {
    double *alpha;            // forward rows: all frames with a gradient, else 2
    double *beta;             // backward rows: 2 with a gradient
    double *emissions;        // per frame, all frames with a gradient, else 1
    double *log_scale;        // per frame and sequence, with a gradient
    double *skip;
    double *products;         // one frame's state products
    double *row;              // one sequence's first or last row, as LatticeScratch holds it
    double *frame_emissions;  // one frame's emissions of each sequence, one after the other
    LabelSlots slots[kWideGroup];  // one a lane, as many as the widest group planned has
};

// Per-thread buffers: one frame's class table or exponentials, and what
// finishing gradient rows needs.
struct ThreadBuffers {
    double *class_exps;  // [C] a lane of a group (one without groups) if any sequence uses_class_table()
    void *frame_exps;    // [C] of the inputs' type: a frame's exponentials (read_frame())
    double *products;    // [|l'|] alpha_t(s) beta_t(s), up to a common factor
    double *by_slot;     // [K]    posterior occupancy of each distinct class
};

}  // namespace fastctc
