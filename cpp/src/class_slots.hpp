// The distinct classes of an extended label.
//
// The gradient of frame t gathers the posterior occupancy of every state s into
// the class l'_s it emits (Graves et al. 2006, eq. (16): a sum over
// lab(l, k) = {s : l'_s = k}).  Mapping the label positions and the blank to a
// compact list of the K distinct classes (K <= |l| + 1) lets each frame
// accumulate K numbers instead of touching all C classes.
//
// Built once a sequence, by class_slots.cpp (compiled once, not per instruction
// set: nothing in it is worth vectorising).
#pragma once

#include <cstdint>

namespace fastctc {

// Slot 0 is the blank's, the others the label's classes in the order they first
// appear (the order of the slots changes no result: each gathers its own class).
// Positions are kept as offsets into the rows they index, whose entries lie
// `stride` apart (the lanes of a group: grouped_lattice.hpp), so that a frame's
// gradient row does not multiply them out again for every slot.
struct LabelSlots {
    int32_t *klass;         // [K] class of each slot
    int32_t *source;        // [K] where the slot's class first appears, as an offset into a
                            //     frame's emissions: 0 for the blank, (1 + j) * stride for
                            //     label position j
    int32_t *repeats;       // [R] the label positions j whose class appears before j, in
                            //     order, as offsets j * stride into the label states
    int32_t *repeat_slots;  // [R] the slot of each of them
    int64_t count;          // K
    int64_t repeat_count;   // R = |l| + 1 - K
};

// Fills slots (whose arrays have room for |l| + 1, |l| + 1, |l| and |l| entries)
// for rows whose entries lie stride apart (offsets below 2^31: labels of a group
// are short, a single sequence's stride is 1).
void build_label_slots(const int32_t *label, int64_t label_length, int32_t blank, int64_t stride,
                       LabelSlots *slots);

}  // namespace fastctc
