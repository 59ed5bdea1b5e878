// Argument checks of the C API, done before any output is written.
//
// The Python layer checks the same things first and raises messages that name
// the argument, index and value; these checks keep the core safe for C callers
// and against a Python bug, so bad data never reaches the kernels.  The rules
// for one length or label are shared with the CUDA kernels, which check the
// device-resident lengths and labels with them.
#pragma once

#include <cstdint>

#include "fastctc/ctc.h"
#include "host_device.hpp"

namespace fastctc {

FASTCTC_HOST_DEVICE inline bool valid_input_length(int64_t length, int64_t max_time) {
    return length >= 0 && length <= max_time;
}

FASTCTC_HOST_DEVICE inline bool valid_label(int32_t label, int64_t num_classes, int32_t blank) {
    return label >= 0 && label < num_classes && label != blank;
}

// Checks the sizes and options alone, reading none of the batch's arrays.
fastctc_status validate_extents(const fastctc_batch *batch, const fastctc_options *options);

// Checks the sizes, the options and the input lengths; labels and
// label_lengths are not read (the decoders have none).
fastctc_status validate_inputs(const fastctc_batch *batch, const fastctc_options *options);

// Checks the batch shape, lengths and options; with check_labels, also that
// labels is present and every label is a class in [0, C) other than blank.
fastctc_status validate_batch(const fastctc_batch *batch, const fastctc_options *options, bool check_labels);

}  // namespace fastctc
