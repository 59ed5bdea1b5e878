# cython: language_level=3
# The C API of cpp/include/fastctc/ctc.h as Cython sees it, shared by the bindings
# (_ctc.pyx, and _ctc_cuda.pyx in the CUDA build), with the one way they turn a
# status into a Python exception.
from libc.stdint cimport int32_t, int64_t


cdef extern from "fastctc/ctc.h" nogil:
    ctypedef enum fastctc_status:
        FASTCTC_STATUS_SUCCESS
        FASTCTC_STATUS_INVALID_VALUE
        FASTCTC_STATUS_WORKSPACE_TOO_SMALL
        FASTCTC_STATUS_SIZE_OVERFLOW
        FASTCTC_STATUS_SCORER_FAILED
        FASTCTC_STATUS_CUDA_ERROR

    const char *fastctc_status_string(fastctc_status status)
    const char *fastctc_simd_level()
    const char *fastctc_version()
    const char *fastctc_compiler()
    int fastctc_openmp_version()
    const char *fastctc_openmp_library()

    ctypedef struct fastctc_options:
        int32_t blank
        int32_t log_probs
        int32_t zero_infinity
        int32_t num_threads

    ctypedef struct fastctc_batch:
        int64_t max_time
        int64_t batch_size
        int64_t num_classes
        const int64_t *input_lengths
        const int64_t *label_lengths
        const int32_t *labels

    fastctc_status fastctc_workspace_size(const fastctc_batch *batch, const fastctc_options *options,
                                          int with_grad, size_t *bytes)
    fastctc_status fastctc_ctc_loss_f32(const fastctc_batch *batch, const fastctc_options *options,
                                        const float *inputs, const int64_t *input_strides, float *losses,
                                        float *grad, const int64_t *grad_strides, const float *grad_scale,
                                        void *workspace, size_t workspace_bytes)
    fastctc_status fastctc_ctc_loss_f64(const fastctc_batch *batch, const fastctc_options *options,
                                        const double *inputs, const int64_t *input_strides, double *losses,
                                        double *grad, const int64_t *grad_strides, const double *grad_scale,
                                        void *workspace, size_t workspace_bytes)

    fastctc_status fastctc_ctc_posteriors_f32(const fastctc_batch *batch, const fastctc_options *options,
                                              const float *inputs, const int64_t *input_strides,
                                              float *log_likelihoods, float *class_occupancy,
                                              const int64_t *class_strides, float *state_occupancy,
                                              const int64_t *state_strides, void *workspace, size_t workspace_bytes)
    fastctc_status fastctc_ctc_posteriors_f64(const fastctc_batch *batch, const fastctc_options *options,
                                              const double *inputs, const int64_t *input_strides,
                                              double *log_likelihoods, double *class_occupancy,
                                              const int64_t *class_strides, double *state_occupancy,
                                              const int64_t *state_strides, void *workspace, size_t workspace_bytes)
    fastctc_status fastctc_align_workspace_size(const fastctc_batch *batch, const fastctc_options *options,
                                                size_t *bytes)
    fastctc_status fastctc_forced_align_f32(const fastctc_batch *batch, const fastctc_options *options,
                                            const float *inputs, const int64_t *input_strides,
                                            float *path_scores, int32_t *frame_states, float *frame_log_probs,
                                            int64_t *token_starts, int64_t *token_ends, float *token_scores,
                                            void *workspace, size_t workspace_bytes)
    fastctc_status fastctc_forced_align_f64(const fastctc_batch *batch, const fastctc_options *options,
                                            const double *inputs, const int64_t *input_strides,
                                            double *path_scores, int32_t *frame_states, double *frame_log_probs,
                                            int64_t *token_starts, int64_t *token_ends, double *token_scores,
                                            void *workspace, size_t workspace_bytes)

    ctypedef int (*fastctc_score_fn)(void *context, const int32_t *prefix, int64_t length,
                                     double *scores) noexcept nogil

    ctypedef struct fastctc_scorer:
        fastctc_score_fn score
        void *context
        double weight
        double insertion_bonus

    ctypedef struct fastctc_decoder_options:
        int32_t keep_repeated
        int32_t beam_width
        int32_t top_paths
        int32_t use_prune_logp
        double prune_logp
        fastctc_scorer scorer

    fastctc_status fastctc_greedy_decode_f32(const fastctc_batch *batch, const fastctc_options *options,
                                             const fastctc_decoder_options *decoder_options,
                                             const float *inputs, const int64_t *input_strides,
                                             int32_t *tokens, int64_t *token_frames, int64_t *token_counts,
                                             float *scores)
    fastctc_status fastctc_greedy_decode_f64(const fastctc_batch *batch, const fastctc_options *options,
                                             const fastctc_decoder_options *decoder_options,
                                             const double *inputs, const int64_t *input_strides,
                                             int32_t *tokens, int64_t *token_frames, int64_t *token_counts,
                                             double *scores)
    fastctc_status fastctc_beam_search_workspace_size(const fastctc_batch *batch, const fastctc_options *options,
                                                      const fastctc_decoder_options *decoder_options,
                                                      size_t *bytes)
    fastctc_status fastctc_beam_search_f32(const fastctc_batch *batch, const fastctc_options *options,
                                           const fastctc_decoder_options *decoder_options,
                                           const float *inputs, const int64_t *input_strides,
                                           int32_t *tokens, int64_t *token_frames, int64_t *token_counts,
                                           float *log_probs, float *scores, void *workspace, size_t workspace_bytes)
    fastctc_status fastctc_beam_search_f64(const fastctc_batch *batch, const fastctc_options *options,
                                           const fastctc_decoder_options *decoder_options,
                                           const double *inputs, const int64_t *input_strides,
                                           int32_t *tokens, int64_t *token_frames, int64_t *token_counts,
                                           double *log_probs, double *scores, void *workspace,
                                           size_t workspace_bytes)


cdef inline int raise_for_status(fastctc_status status, str detail="") except -1:
    # Raises the exception for a status other than success; detail is appended.
    if status == FASTCTC_STATUS_SUCCESS:
        return 0
    message = "fastctc core: " + fastctc_status_string(status).decode() + detail
    if status == FASTCTC_STATUS_INVALID_VALUE:
        raise ValueError(message)
    if status == FASTCTC_STATUS_SIZE_OVERFLOW:
        raise OverflowError(message)
    raise RuntimeError(message)


cdef inline fastctc_options make_options(int blank, bint log_probs, bint zero_infinity, int num_threads):
    cdef fastctc_options options
    options.blank = blank
    options.log_probs = log_probs
    options.zero_infinity = zero_infinity
    options.num_threads = num_threads
    return options
