// The distinct classes of an extended label.
//
// The gradient of frame t gathers the posterior occupancy of every state s
// into the class l'_s it emits (Graves et al. 2006, eq. (16): a sum over
// lab(l, k) = {s : l'_s = k}).  Mapping states to a compact list of the K
// distinct classes (K <= |l| + 1) lets each frame accumulate K numbers instead
// of touching C classes.
#pragma once

#include <algorithm>
#include <cstdint>

#include "extended_label.hpp"

namespace fastctc {

// Fills slot_class[0..K) with the sorted distinct classes of l' and
// state_slot[s] with the slot of l'_s; returns K.
inline int64_t build_class_slots(const ExtendedLabel &label, int32_t *state_slot, int32_t *slot_class) {
    int64_t count = label.label_length() + 1;
    slot_class[0] = label.blank();
    for (int64_t j = 0; j < label.label_length(); ++j) slot_class[j + 1] = label[2 * j + 1];
    std::sort(slot_class, slot_class + count);
    count = std::unique(slot_class, slot_class + count) - slot_class;
    for (int64_t s = 0; s < label.size(); ++s)
        state_slot[s] = int32_t(std::lower_bound(slot_class, slot_class + count, label[s]) - slot_class);
    return count;
}

}  // namespace fastctc
