#include "validate.hpp"

#include <cstdint>

namespace fastctc {

fastctc_status validate_extents(const fastctc_batch *batch, const fastctc_options *options) {
    if (!batch || !options) return FASTCTC_STATUS_INVALID_VALUE;
    const int64_t frames = batch->max_time, size = batch->batch_size, classes = batch->num_classes;
    if (frames < 0 || size < 0 || classes < 1 || classes > INT32_MAX) return FASTCTC_STATUS_INVALID_VALUE;
    if (options->blank < 0 || options->blank >= classes) return FASTCTC_STATUS_INVALID_VALUE;
    return FASTCTC_STATUS_SUCCESS;
}

fastctc_status validate_inputs(const fastctc_batch *batch, const fastctc_options *options) {
    const fastctc_status status = validate_extents(batch, options);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    if (batch->batch_size > 0 && !batch->input_lengths) return FASTCTC_STATUS_INVALID_VALUE;
    for (int64_t n = 0; n < batch->batch_size; ++n)
        if (!valid_input_length(batch->input_lengths[n], batch->max_time)) return FASTCTC_STATUS_INVALID_VALUE;
    return FASTCTC_STATUS_SUCCESS;
}

fastctc_status validate_batch(const fastctc_batch *batch, const fastctc_options *options, bool check_labels) {
    const fastctc_status status = validate_inputs(batch, options);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    const int64_t size = batch->batch_size;
    if (size > 0 && !batch->label_lengths) return FASTCTC_STATUS_INVALID_VALUE;

    int64_t total_labels = 0;
    for (int64_t n = 0; n < size; ++n) {
        if (batch->label_lengths[n] < 0) return FASTCTC_STATUS_INVALID_VALUE;
        if (batch->label_lengths[n] > INT64_MAX - total_labels) return FASTCTC_STATUS_SIZE_OVERFLOW;
        total_labels += batch->label_lengths[n];
    }
    if (!check_labels || total_labels == 0) return FASTCTC_STATUS_SUCCESS;
    if (!batch->labels) return FASTCTC_STATUS_INVALID_VALUE;
    for (int64_t i = 0; i < total_labels; ++i)
        if (!valid_label(batch->labels[i], batch->num_classes, options->blank)) return FASTCTC_STATUS_INVALID_VALUE;
    return FASTCTC_STATUS_SUCCESS;
}

}  // namespace fastctc
