// Sequences with short labels, eight or four at a time.
//
// With a short label a lattice row is a block or two, and one sequence's
// recursions spend more instructions on loop bookkeeping than on arithmetic.
// So groupable() sequences (scratch.hpp) are computed W at a time (kWideGroup
// or kGroupSize: workspace.cpp chooses) in probability space, state s of the
// group's sequences side by side (pack.hpp):
// labels padded to the group's longest with zero emissions, frames past a
// sequence's length given zero emissions and ignored.  Each lane performs the
// operations of its sequence's own lattice_loss() or lattice_loss_and_grad()
// (forward_backward.hpp) in the same order, so it gets the same bits.  Frames
// are read, last rows made and losses taken one sequence at a time, by the
// functions those use (on the sequence's own row copied out of its lane), but
// where a group of eight fills its lanes' class tables together; the first
// forward row and the state products of a frame are computed for all lanes at
// once and each gradient row finished from its lane's products in place.  A
// sequence whose lane cannot vouch for its result is computed again on its own
// (kernels.cpp).
#pragma once

#include <cstdint>
#include <type_traits>

#include "forward_backward.hpp"
#include "isa.hpp"
#include "probability_space.hpp"
#include "scratch.hpp"
#include "sequence.hpp"

namespace fastctc::FASTCTC_ISA {

// The loss of each sequence of seqs[0, W) and, if they have one, its gradient
// rows [0, T_n); results[w] says what lane w can vouch for.
template <int W, typename Real>
void lattice_group(const Sequence<Real> *seqs, GroupScratch &scratch, const ThreadBuffers &buffers,
                   LatticeResult *results) {
    using Space = ProbabilitySpace;
    const bool grad = seqs[0].grad != nullptr;
    const auto labels = [&](int w) { return seqs[w].label.label_length(); };
    int64_t room = 0, frames = 0;  // the longest label and input
    for (int w = 0; w < W; ++w) {
        room = labels(w) > room ? labels(w) : room;
        frames = seqs[w].frames > frames ? seqs[w].frames : frames;
    }
    const int64_t lane_row = Space::row_size(room) * W, lane_emissions = (room + 1) * W;
    auto alpha = [&](int64_t t) { return scratch.alpha + (grad ? t : t & 1) * lane_row; };
    auto beta = [&](int64_t t) { return scratch.beta + (t & 1) * lane_row; };
    auto e = [&](int64_t t) { return scratch.emissions + (grad ? t : 0) * lane_emissions; };

    // Lane w's entries [0, count) of a group array from one sequence's, the rest
    // [count, room_count) zero.
    const auto into_lane = [](const double *from, int64_t count, double *lanes, int64_t room_count, int w) {
        for (int64_t i = 0; i < room_count; ++i) lanes[i * W + w] = i < count ? from[i] : 0.0;
    };

    for (int w = 0; w < W; ++w) {
        fill_skip(seqs[w].label, scratch.frame_emissions);
        into_lane(scratch.frame_emissions, labels(w), scratch.skip, room, w);
        if (grad)
            build_label_slots(seqs[w].label.labels(), labels(w), seqs[w].label.blank(), W, &scratch.slots[w]);
    }

    // Frame t's emissions of lane w into e(t): through the class table straight
    // into the lane's entries, otherwise into frame_emissions and copied there.
    // The lane's entries past its label are zero, and all of them once its
    // sequence has ended: zeroed in every frame's emissions with a gradient (each
    // frame keeps its own), once without (one set serves every frame).
    double *frame_e[W];
    for (int w = 0; w < W; ++w) frame_e[w] = scratch.frame_emissions + w * (room + 1);
    // Each lane reading its frames through a class table has one of its own in
    // buffers.class_exps; a frame's tables are all filled before any lane's
    // emissions are taken from its table (ProbabilitySpace::class_table()).
    // Where all lanes' tables are filled together (lane_tables), they lie side
    // by side instead: lane w's entry c at buffers.class_exps[c * W + w]
    // (ProbabilitySpace::lane_class_tables()).
    const auto class_exps = [&](int w) { return buffers.class_exps + w * seqs[w].num_classes; };
    bool by_table[W], lane_tables = true;
    for (int w = 0; w < W; ++w) {
        by_table[w] = reads_class_table<Space>(seqs[w]);
        lane_tables = lane_tables && by_table[w] && Space::fills_lane_tables<W>(seqs[w]);
    }
    typename Space::ClassTable tables[W];
    const auto read_into_lane = [&](int w, int64_t t, double *lane) {
        if (lane_tables) return 0.0;  // the emissions and verdicts taken already (read_tables())
        if (by_table[w]) {
            RowCheck check;
            Space::template table_emissions<Real, W>(seqs[w], t, class_exps(w), tables[w], lane, &check);
            results[w].take(check);
            return 0.0;
        }
        const double log_scale = frame_emissions<Space>(seqs[w], t, frame_e[w], buffers, &results[w]);
        for (int64_t i = 0; i <= labels(w); ++i) lane[i * W] = frame_e[w][i];
        return log_scale;
    };
    double scales[W] = {};  // each lane's sum_t log_scale_t (ForwardPass)
    // Where all lanes' tables are filled at once, where each lane's emissions
    // come from (ProbabilitySpace::lane_positions()).
    int32_t positions[(kGroupedLabels + 1) * W];
    uint8_t present[kGroupedLabels + 1];
    if constexpr (Space::kLaneTables<W, Real>)
        if (lane_tables) Space::lane_positions<W>(seqs, room, positions, present);
    // Frame t's class tables: all lanes' at once where they can (a lane whose
    // sequence has ended reads its last row again), and then their gradient rows
    // and all lanes' emissions, zero past each label and in the lanes that have
    // ended; else lane by lane.
    const auto read_tables = [&](int64_t t) {
        if constexpr (Space::kLaneTables<W, Real>) {
            if (lane_tables) {
                const Real *rows[W], *next_rows[W];
                uint8_t active = 0;
                for (int w = 0; w < W; ++w) {
                    rows[w] = seqs[w].input_row(t < seqs[w].frames ? t : seqs[w].frames - 1);
                    next_rows[w] = seqs[w].next_input_row(t);
                    active = uint8_t(active | (t < seqs[w].frames ? 1u << w : 0u));
                }
                double inverse[W];  // each lane's 1 / its sum
                const uint8_t doubtful = Space::template lane_class_tables<W>(
                    rows, next_rows, seqs[0].num_classes, buffers.class_exps, tables, inverse);
                for (int w = 0; w < W; ++w) {
                    if (!(doubtful & active & 1u << w)) continue;
                    RowCheck check;
                    Space::table_verdict(seqs[w], t, tables[w], &check);
                    results[w].take(check);
                }
                if (grad) Space::template lane_grad_rows<W>(seqs, t, buffers.class_exps, inverse);
                Space::template lane_emissions<W>(positions, present, active, room, buffers.class_exps, inverse,
                                                  e(t));
                return;
            }
        }
        for (int w = 0; w < W; ++w)
            if (t < seqs[w].frames && by_table[w]) tables[w] = Space::class_table(seqs[w], t, class_exps(w));
    };
    for (int64_t t = 0; t < frames; ++t) {
        read_tables(t);
        // With lane tables a frame after the first has nothing left to do lane by
        // lane: its emissions and verdicts are taken, its log_scale_t is 0.
        for (int w = 0; w < W && (t == 0 || !lane_tables); ++w) {
            double *lane = e(t) + w;  // entry i at lane[i * W]
            if (t >= seqs[w].frames) {
                if (!lane_tables && (grad || t == seqs[w].frames))
                    for (int64_t i = 0; i <= room; ++i) lane[i * W] = 0.0;
                continue;
            }
            const double log_scale = read_into_lane(w, t, lane);
            if (!lane_tables && (grad || t == 0))
                for (int64_t i = labels(w) + 1; i <= room; ++i) lane[i * W] = 0.0;
            scales[w] += log_scale;
            if (grad) scratch.log_scale[t * W + w] = log_scale;
        }
        RowCheck checks[W];
        if (t == 0)
            Space::forward_first<W>(e(0), room, alpha(0), checks);
        else if (grad)
            Space::forward_step<false, W>(alpha(t - 1), e(t), scratch.skip, room, alpha(t), checks);
        else
            Space::forward_step<true, W>(alpha(t - 1), e(t), scratch.skip, room, alpha(t), checks);
        for (int w = 0; w < W; ++w)
            if (t < seqs[w].frames) results[w].take(checks[w]);
        for (int w = 0; w < W; ++w) {
            if (t != seqs[w].frames - 1) continue;
            Space::copy_from_lane(alpha(t), room, W, w, labels(w), scratch.row);
            RowCheck check;
            const double end = Space::log_end(scratch.row, labels(w), &check);
            results[w].take(check);
            results[w].loss = -(scales[w] + end);
        }
    }
    if (!grad) return;

    // The backward rows roll; each lane's starts at its last frame.  (Zeroed first:
    // the columns of lanes that have not started are computed with the others.)
    for (int64_t i = 0; i < 2 * lane_row; ++i) scratch.beta[i] = 0.0;
    const auto finishing = [&](int w, int64_t t) { return t < seqs[w].frames && results[w].trusted(true); };
    for (int64_t t = frames - 1; t >= 0; --t) {
        bool stepping = false;  // some lane needs a step to row t
        for (int w = 0; w < W; ++w) stepping = stepping || (finishing(w, t) && t + 1 < seqs[w].frames);
        RowCheck checks[W];
        if (stepping) Space::backward_step<W>(beta(t + 1), e(t + 1), scratch.skip, room, beta(t), checks);
        for (int w = 0; w < W; ++w) {
            if (!finishing(w, t)) continue;
            if (t + 1 < seqs[w].frames) {
                results[w].sound = results[w].sound && checks[w].sound;
                continue;
            }
            RowCheck check;
            Space::backward_last(labels(w), scratch.row, &check);
            results[w].sound = results[w].sound && check.sound;
            Space::copy_into_lane(scratch.row, labels(w), beta(t), room, W, w);
        }
        ProductSums sums[W];
        Space::products<W>(alpha(t), beta(t), room, scratch.products, sums);
        for (int w = 0; w < W; ++w) {
            if (!finishing(w, t)) continue;
            if (!sums[w].trusted) {
                results[w].products_trusted = false;
                continue;
            }
            const StateProducts products{scratch.products + w, scratch.products + (room + 1) * W + w, W, sums[w]};
            const double log_scale = lane_tables ? 0.0 : scratch.log_scale[t * W + w];
            write_grad_row<Space>(seqs[w], t, products, e(t) + w, log_scale, scratch.slots[w], buffers.by_slot);
        }
    }
}

}  // namespace fastctc::FASTCTC_ISA
