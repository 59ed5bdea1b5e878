#include "class_slots.hpp"

#include <algorithm>

namespace fastctc {

void build_label_slots(const int32_t *label, int64_t label_length, int32_t blank, LabelSlots *slots) {
    int32_t *klass = slots->klass;
    int64_t count = 0;
    klass[count++] = blank;
    for (int64_t j = 0; j < label_length; ++j) klass[count++] = label[j];
    std::sort(klass, klass + count);
    count = std::unique(klass, klass + count) - klass;
    auto slot_of = [&](int32_t c) { return int32_t(std::lower_bound(klass, klass + count, c) - klass); };

    for (int64_t k = 0; k < count; ++k) slots->source[k] = -1;
    slots->blank_slot = slot_of(blank);
    slots->source[slots->blank_slot] = 0;
    for (int64_t j = 0; j < label_length; ++j) {
        const int32_t slot = slot_of(label[j]);
        slots->of_label[j] = slot;
        if (slots->source[slot] < 0) slots->source[slot] = int32_t(1 + j);
    }
    slots->count = count;
}

}  // namespace fastctc
