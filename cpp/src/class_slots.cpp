#include "class_slots.hpp"

namespace fastctc {

void build_label_slots(const int32_t *label, int64_t label_length, int32_t blank, int64_t stride,
                       LabelSlots *slots) {
    int32_t *klass = slots->klass;
    klass[0] = blank;  // labels are never the blank
    slots->source[0] = 0;
    int64_t count = 1, repeat_count = 0;
    for (int64_t j = 0; j < label_length; ++j) {
        // The slots so far, searched in turn: |l| x K comparisons, once a sequence,
        // below what its lattice costs (at least |l| frames of 2|l| + 1 states).
        // Sorting the classes and searching them by halves took longer on labels of
        // 10 to 40 (mispredicted branches): BENCHMARKS.md.
        int64_t slot = 1;
        while (slot < count && klass[slot] != label[j]) ++slot;
        if (slot == count) {
            klass[count] = label[j];
            slots->source[count++] = int32_t((1 + j) * stride);
        } else {
            slots->repeats[repeat_count] = int32_t(j * stride);
            slots->repeat_slots[repeat_count++] = int32_t(slot);
        }
    }
    slots->count = count;
    slots->repeat_count = repeat_count;
}

}  // namespace fastctc
