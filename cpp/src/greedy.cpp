// Best-path (greedy) decoding: Graves et al. 2006, Section 3.2, eq. (4).
//
// The most probable path pi* takes the most probable class at every frame;
// its labelling B(pi*) merges repeated classes, then drops blanks.  Its log-
// probability is sum_t max_k ln y^t_k (ln y from the logits' softmax, or the
// log-scores as given).  One pass over each frame finds the argmax (NumPy's
// rule, argmax.hpp) and, for logits, the log normaliser in double precision.
#include <cmath>
#include <cstdint>

#include "argmax.hpp"
#include "fastctc/ctc.h"
#include "frame.hpp"
#include "parallel.hpp"
#include "validate.hpp"

namespace fastctc {
namespace {

using namespace FASTCTC_ISA;  // the kernels' headers, compiled at the baseline level

struct GreedyOut {
    int32_t *tokens;
    int64_t *token_frames;
    int64_t *token_count;
};

// Decodes one sequence of `frames` rows; returns ln p(pi*).
template <typename Real>
double greedy_sequence(const Real *inputs, const int64_t strides[3], int64_t frames, int64_t num_classes,
                       bool log_probs, int32_t blank, bool keep_repeated, const GreedyOut &out) {
    double score = 0.0;
    int64_t count = 0;
    int64_t previous = -1;
    for (int64_t t = 0; t < frames; ++t) {
        const Real *row = inputs + t * strides[0];
        const int64_t best = argmax(row, num_classes, strides[2]);
        const double log_norm = log_probs ? 0.0 : log_normaliser(row, num_classes, strides[2]);
        score += double(row[best * strides[2]]) - log_norm;
        // B: a new token where the class changes (or always, keeping repeats), never a blank.
        if (best != blank && (keep_repeated || best != previous)) {
            out.tokens[count] = int32_t(best);
            out.token_frames[count] = t;
            ++count;
        }
        previous = best;
    }
    *out.token_count = count;
    return score;
}

template <typename Real>
fastctc_status greedy_decode(const fastctc_batch *batch, const fastctc_options *options,
                             const fastctc_decoder_options *decoder_options, const Real *inputs,
                             const int64_t input_strides[3], int32_t *tokens, int64_t *token_frames,
                             int64_t *token_counts, Real *scores) {
    fastctc_status status = validate_inputs(batch, options);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    const int64_t size = batch->batch_size, max_time = batch->max_time;
    if (size == 0) return FASTCTC_STATUS_SUCCESS;
    if (!decoder_options || !input_strides || !token_counts || !scores ||
        (max_time > 0 && (!inputs || !tokens || !token_frames)))
        return FASTCTC_STATUS_INVALID_VALUE;

    // The work per sequence is T_n x C; sequences go to threads in index order.
    const int threads = resolve_num_threads(options->num_threads, size);
    parallel_for_dynamic(threads, size, [&](int64_t n, int) {
        const GreedyOut out{tokens + n * max_time, token_frames + n * max_time, token_counts + n};
        scores[n] = Real(greedy_sequence(inputs ? inputs + n * input_strides[1] : nullptr, input_strides,
                                         batch->input_lengths[n], batch->num_classes, options->log_probs != 0,
                                         options->blank, decoder_options->keep_repeated != 0, out));
    });
    return FASTCTC_STATUS_SUCCESS;
}

}  // namespace
}  // namespace fastctc

extern "C" {

fastctc_status fastctc_greedy_decode_f32(const fastctc_batch *batch, const fastctc_options *options,
                                         const fastctc_decoder_options *decoder_options, const float *inputs,
                                         const int64_t input_strides[3], int32_t *tokens, int64_t *token_frames,
                                         int64_t *token_counts, float *scores) {
    return fastctc::greedy_decode(batch, options, decoder_options, inputs, input_strides, tokens, token_frames,
                                  token_counts, scores);
}

fastctc_status fastctc_greedy_decode_f64(const fastctc_batch *batch, const fastctc_options *options,
                                         const fastctc_decoder_options *decoder_options, const double *inputs,
                                         const int64_t input_strides[3], int32_t *tokens, int64_t *token_frames,
                                         int64_t *token_counts, double *scores) {
    return fastctc::greedy_decode(batch, options, decoder_options, inputs, input_strides, tokens, token_frames,
                                  token_counts, scores);
}

}  // extern "C"
