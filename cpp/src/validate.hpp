// Argument checks of the C API, done before any output is written.
//
// The Python layer checks the same things first and raises messages that name
// the argument, index and value; these checks keep the core safe for C callers
// and against a Python bug, so bad data never reaches the kernels.
#pragma once

#include "fastctc/ctc.h"

namespace fastctc {

// Checks the batch shape, the input lengths and the blank; labels and
// label_lengths are not read (the decoders have none).
fastctc_status validate_inputs(const fastctc_batch *batch, const fastctc_options *options);

// Checks the batch shape, lengths and options; with check_labels, also that
// labels is present and every label is a class in [0, C) other than blank.
fastctc_status validate_batch(const fastctc_batch *batch, const fastctc_options *options, bool check_labels);

}  // namespace fastctc
