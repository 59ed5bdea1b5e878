#include "class_slots.hpp"

#include <algorithm>

namespace fastctc {

void build_label_slots(const int32_t *label, int64_t label_length, int32_t blank, LabelSlots *slots) {
    int32_t *klass = slots->klass;
    klass[0] = blank;  // labels are never the blank
    std::copy(label, label + label_length, klass + 1);
    std::sort(klass + 1, klass + 1 + label_length);
    const int64_t count = std::unique(klass + 1, klass + 1 + label_length) - klass;
    auto slot_of = [&](int32_t c) { return int32_t(std::lower_bound(klass + 1, klass + count, c) - klass); };

    slots->source[0] = 0;
    for (int64_t k = 1; k < count; ++k) slots->source[k] = -1;
    int64_t repeat_count = 0;
    for (int64_t j = 0; j < label_length; ++j) {
        const int32_t slot = slot_of(label[j]);
        if (slots->source[slot] < 0) {
            slots->source[slot] = int32_t(1 + j);
        } else {
            slots->repeats[repeat_count] = int32_t(j);
            slots->repeat_slots[repeat_count++] = slot;
        }
    }
    slots->count = count;
    slots->repeat_count = repeat_count;
}

}  // namespace fastctc
