# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The binding between fastctc's Python API and its C API (cpp/include/fastctc/ctc.h).

Design:
- One function per C entry point, with the C names. Arguments arrive checked and
  normalised by _api.py: inputs as a (T, N, C)-indexed view of any strides, labels
  concatenated as int32, lengths as int64, outputs and workspace already allocated.
  No algorithm lives here.
- Typed memoryviews carry their direction: const for what is read (so read-only
  arrays are accepted), plain for what is written. Strides are passed as element
  strides, so transposed and sliced views reach the core without a copy.
- One `with nogil:` around each native call: other Python threads run meanwhile.
- A status other than success becomes a Python exception with the core's message,
  but for ctc_loss's workspace being too small: it returns False, for _api.py to
  grow the workspace and call again (the core says so before it writes anything).
  The C declarations and that conversion live in _ctc_api.pxd, shared with the
  CUDA binding (_ctc_cuda.pyx).
- A beam-search scorer is a Python callable behind the C API's plain function
  pointer: the search runs without the GIL and takes it only inside the
  callback; an exception there is kept and re-raised after the search. Without
  a scorer the search never touches the GIL.
"""
import os

from libc.stdint cimport int32_t, int64_t
from libc.string cimport memcpy

from fastctc._ctc_api cimport *  # the C API, its types and raise_for_status


ctypedef fused real:
    float
    double


cdef fastctc_batch make_batch(int64_t max_time, int64_t num_classes,
                              const int64_t[::1] input_lengths,  # IN
                              const int64_t[::1] label_lengths,  # IN, or None for the decoders
                              const int32_t[::1] labels):        # IN, or None
    cdef fastctc_batch batch
    batch.max_time = max_time
    batch.batch_size = input_lengths.shape[0]
    batch.num_classes = num_classes
    batch.input_lengths = &input_lengths[0] if input_lengths.shape[0] else NULL
    batch.label_lengths = &label_lengths[0] if label_lengths is not None and label_lengths.shape[0] else NULL
    batch.labels = &labels[0] if labels is not None and labels.shape[0] else NULL
    return batch


cdef void element_strides(const real[:, :, :] inputs, int64_t strides[3]) noexcept:
    cdef int i
    for i in range(3):
        strides[i] = inputs.strides[i] // <int64_t>sizeof(real)


cdef const real *first_element(const real[:, :, :] inputs) noexcept:
    return &inputs[0, 0, 0] if inputs.shape[0] and inputs.shape[1] else NULL


cdef real *first_output(real[:, :, :] out) noexcept:
    return &out[0, 0, 0] if out.shape[0] and out.shape[1] and out.shape[2] else NULL


def simd_level():
    return fastctc_simd_level().decode()


def version():
    return fastctc_version().decode()


def compiler():
    return fastctc_compiler().decode()


def openmp_version():
    return fastctc_openmp_version()


def openmp_library():
    return os.fsdecode(fastctc_openmp_library())


def workspace_size(int64_t max_time, int64_t num_classes,
                   const int64_t[::1] input_lengths,  # IN
                   const int64_t[::1] label_lengths,  # IN
                   *, bint with_grad, int num_threads):
    cdef fastctc_batch batch = make_batch(max_time, num_classes, input_lengths, label_lengths, None)
    cdef fastctc_options options = make_options(0, False, False, num_threads)
    cdef size_t nbytes = 0
    raise_for_status(fastctc_workspace_size(&batch, &options, with_grad, &nbytes))
    return nbytes


def ctc_loss(const real[:, :, :] inputs,         # IN  (T, N, C), any strides
             const int32_t[::1] labels,          # IN  concatenated
             const int64_t[::1] input_lengths,   # IN  (N,)
             const int64_t[::1] label_lengths,   # IN  (N,)
             *, int blank, bint log_probs, bint zero_infinity, int num_threads,
             real[::1] losses_out,               # OUT (N,)
             real[:, :, :] grad_out,             # OUT (T, N, C), any strides, or None
             const real[::1] grad_scale,         # IN  (N,), or None
             unsigned char[::1] workspace):      # SCRATCH
    cdef fastctc_batch batch = make_batch(inputs.shape[0], inputs.shape[2], input_lengths, label_lengths, labels)
    cdef fastctc_options options = make_options(blank, log_probs, zero_infinity, num_threads)
    cdef int64_t input_strides[3]
    cdef int64_t grad_strides[3]
    cdef const real *inputs_ptr = first_element(inputs)
    cdef real *grad_ptr = NULL
    cdef const real *scale_ptr = NULL
    cdef fastctc_status status
    cdef int i
    element_strides(inputs, input_strides)
    for i in range(3):
        grad_strides[i] = 0
    if grad_out is not None:
        for i in range(3):
            grad_strides[i] = grad_out.strides[i] // <int64_t>sizeof(real)
        if grad_out.shape[0] and grad_out.shape[1]:
            grad_ptr = &grad_out[0, 0, 0]
    if grad_scale is not None and grad_scale.shape[0]:
        scale_ptr = &grad_scale[0]
    cdef real *losses_ptr = &losses_out[0] if losses_out.shape[0] else NULL
    cdef void *workspace_ptr = &workspace[0] if workspace.shape[0] else NULL
    cdef size_t workspace_bytes = workspace.shape[0]

    with nogil:
        if real is float:
            status = fastctc_ctc_loss_f32(&batch, &options, inputs_ptr, input_strides, losses_ptr,
                                          grad_ptr, grad_strides, scale_ptr, workspace_ptr, workspace_bytes)
        else:
            status = fastctc_ctc_loss_f64(&batch, &options, inputs_ptr, input_strides, losses_ptr,
                                          grad_ptr, grad_strides, scale_ptr, workspace_ptr, workspace_bytes)
    if status == FASTCTC_STATUS_WORKSPACE_TOO_SMALL:
        return False  # said before anything is written: the caller grows it and calls again
    raise_for_status(status)
    return True



def ctc_posteriors(const real[:, :, :] inputs,          # IN  (T, N, C), any strides
                   const int32_t[::1] labels,           # IN  concatenated
                   const int64_t[::1] input_lengths,    # IN  (N,)
                   const int64_t[::1] label_lengths,    # IN  (N,)
                   *, int blank, bint log_probs, int num_threads,
                   real[::1] log_likelihoods_out,       # OUT (N,)
                   real[:, :, :] class_occupancy_out,   # OUT (T, N, C), any strides
                   real[:, :, :] state_occupancy_out,   # OUT (T, N, S), any strides
                   unsigned char[::1] workspace):       # SCRATCH
    cdef fastctc_batch batch = make_batch(inputs.shape[0], inputs.shape[2], input_lengths, label_lengths, labels)
    cdef fastctc_options options = make_options(blank, log_probs, False, num_threads)
    cdef int64_t input_strides[3]
    cdef int64_t class_strides[3]
    cdef int64_t state_strides[3]
    element_strides(inputs, input_strides)
    element_strides(class_occupancy_out, class_strides)
    element_strides(state_occupancy_out, state_strides)
    cdef const real *inputs_ptr = first_element(inputs)
    cdef real *likelihoods_ptr = &log_likelihoods_out[0] if log_likelihoods_out.shape[0] else NULL
    cdef real *classes_ptr = first_output(class_occupancy_out)
    cdef real *states_ptr = first_output(state_occupancy_out)
    cdef void *workspace_ptr = &workspace[0] if workspace.shape[0] else NULL
    cdef size_t workspace_bytes = workspace.shape[0]
    cdef fastctc_status status
    with nogil:
        if real is float:
            status = fastctc_ctc_posteriors_f32(&batch, &options, inputs_ptr, input_strides, likelihoods_ptr,
                                                classes_ptr, class_strides, states_ptr, state_strides,
                                                workspace_ptr, workspace_bytes)
        else:
            status = fastctc_ctc_posteriors_f64(&batch, &options, inputs_ptr, input_strides, likelihoods_ptr,
                                                classes_ptr, class_strides, states_ptr, state_strides,
                                                workspace_ptr, workspace_bytes)
    raise_for_status(status)


def align_workspace_size(int64_t max_time, int64_t num_classes,
                         const int64_t[::1] input_lengths,  # IN
                         const int64_t[::1] label_lengths,  # IN
                         *, int num_threads):
    cdef fastctc_batch batch = make_batch(max_time, num_classes, input_lengths, label_lengths, None)
    cdef fastctc_options options = make_options(0, False, False, num_threads)
    cdef size_t nbytes = 0
    raise_for_status(fastctc_align_workspace_size(&batch, &options, &nbytes))
    return nbytes


def forced_align(const real[:, :, :] inputs,         # IN  (T, N, C), any strides
                 const int32_t[::1] labels,          # IN  concatenated
                 const int64_t[::1] input_lengths,   # IN  (N,)
                 const int64_t[::1] label_lengths,   # IN  (N,)
                 *, int blank, bint log_probs, int num_threads,
                 real[::1] path_scores_out,          # OUT (N,)
                 int32_t[:, ::1] frame_states_out,   # OUT (N, T)
                 real[:, ::1] frame_log_probs_out,   # OUT (N, T)
                 int64_t[::1] token_starts_out,      # OUT like labels
                 int64_t[::1] token_ends_out,        # OUT like labels
                 real[::1] token_scores_out,         # OUT like labels
                 unsigned char[::1] workspace):      # SCRATCH
    cdef fastctc_batch batch = make_batch(inputs.shape[0], inputs.shape[2], input_lengths, label_lengths, labels)
    cdef fastctc_options options = make_options(blank, log_probs, False, num_threads)
    cdef int64_t input_strides[3]
    element_strides(inputs, input_strides)
    cdef const real *inputs_ptr = first_element(inputs)
    cdef bint has_frames = frame_states_out.shape[0] and frame_states_out.shape[1]
    cdef bint has_tokens = token_starts_out.shape[0] > 0
    cdef real *path_scores_ptr = &path_scores_out[0] if path_scores_out.shape[0] else NULL
    cdef int32_t *states_ptr = &frame_states_out[0, 0] if has_frames else NULL
    cdef real *frame_log_probs_ptr = &frame_log_probs_out[0, 0] if has_frames else NULL
    cdef int64_t *starts_ptr = &token_starts_out[0] if has_tokens else NULL
    cdef int64_t *ends_ptr = &token_ends_out[0] if has_tokens else NULL
    cdef real *token_scores_ptr = &token_scores_out[0] if has_tokens else NULL
    cdef void *workspace_ptr = &workspace[0] if workspace.shape[0] else NULL
    cdef size_t workspace_bytes = workspace.shape[0]
    cdef fastctc_status status
    with nogil:
        if real is float:
            status = fastctc_forced_align_f32(&batch, &options, inputs_ptr, input_strides, path_scores_ptr,
                                              states_ptr, frame_log_probs_ptr, starts_ptr, ends_ptr,
                                              token_scores_ptr, workspace_ptr, workspace_bytes)
        else:
            status = fastctc_forced_align_f64(&batch, &options, inputs_ptr, input_strides, path_scores_ptr,
                                              states_ptr, frame_log_probs_ptr, starts_ptr, ends_ptr,
                                              token_scores_ptr, workspace_ptr, workspace_bytes)
    raise_for_status(status)


def greedy_decode(const real[:, :, :] inputs,          # IN  (T, N, C), any strides
                  const int64_t[::1] input_lengths,    # IN  (N,)
                  *, int blank, bint log_probs, bint merge_repeated, int num_threads,
                  int32_t[:, ::1] tokens_out,          # OUT (N, T)
                  int64_t[:, ::1] token_frames_out,    # OUT (N, T)
                  int64_t[::1] token_counts_out,       # OUT (N,)
                  real[::1] scores_out):               # OUT (N,)
    cdef fastctc_batch batch = make_batch(inputs.shape[0], inputs.shape[2], input_lengths, None, None)
    cdef fastctc_options options = make_options(blank, log_probs, False, num_threads)
    cdef fastctc_decoder_options decoder_options = make_decoder_options(not merge_repeated, 0, 0, None, None)
    cdef int64_t input_strides[3]
    element_strides(inputs, input_strides)
    cdef const real *inputs_ptr = first_element(inputs)
    cdef bint has_frames = tokens_out.shape[0] and tokens_out.shape[1]
    cdef int32_t *tokens_ptr = &tokens_out[0, 0] if has_frames else NULL
    cdef int64_t *frames_ptr = &token_frames_out[0, 0] if has_frames else NULL
    cdef int64_t *counts_ptr = &token_counts_out[0] if token_counts_out.shape[0] else NULL
    cdef real *scores_ptr = &scores_out[0] if scores_out.shape[0] else NULL
    cdef fastctc_status status
    with nogil:
        if real is float:
            status = fastctc_greedy_decode_f32(&batch, &options, &decoder_options, inputs_ptr, input_strides,
                                               tokens_ptr, frames_ptr, counts_ptr, scores_ptr)
        else:
            status = fastctc_greedy_decode_f64(&batch, &options, &decoder_options, inputs_ptr, input_strides,
                                               tokens_ptr, frames_ptr, counts_ptr, scores_ptr)
    raise_for_status(status)


cdef class ScorerCall:
    """The Python side of a beam-search scorer: the callable and its first error."""
    cdef object function  # prefix tuple -> C-contiguous float64 array of C entries
    cdef Py_ssize_t num_classes
    cdef double weight
    cdef double insertion_bonus
    cdef object error

    def __init__(self, function, Py_ssize_t num_classes, double weight, double insertion_bonus):
        self.function = function
        self.num_classes = num_classes
        self.weight = weight
        self.insertion_bonus = insertion_bonus
        self.error = None


cdef int call_scorer(void *context, const int32_t *prefix, int64_t length, double *scores) noexcept nogil:
    with gil:
        return call_scorer_with_gil(<ScorerCall>context, prefix, length, scores)


cdef int call_scorer_with_gil(ScorerCall call, const int32_t *prefix, int64_t length, double *scores) noexcept:
    cdef const double[::1] values
    try:
        values = call.function(tuple([prefix[i] for i in range(length)]))
        if values.shape[0] != call.num_classes:  # never write past the core's row
            raise ValueError(f"the scorer returned {values.shape[0]} scores for C={call.num_classes} classes")
        memcpy(scores, &values[0], values.shape[0] * sizeof(double))
        return 0
    except BaseException as error:
        if call.error is None:
            call.error = error
        return 1


cdef fastctc_decoder_options make_decoder_options(bint keep_repeated, int beam_width, int top_paths,
                                                  object prune_logp, ScorerCall scorer):
    cdef fastctc_decoder_options options
    options.keep_repeated = keep_repeated
    options.beam_width = beam_width
    options.top_paths = top_paths
    options.use_prune_logp = prune_logp is not None
    options.prune_logp = prune_logp if prune_logp is not None else 0.0
    options.scorer.score = NULL
    options.scorer.context = NULL
    options.scorer.weight = 0.0
    options.scorer.insertion_bonus = 0.0
    if scorer is not None:
        options.scorer.score = call_scorer
        options.scorer.context = <void *>scorer
        options.scorer.weight = scorer.weight
        options.scorer.insertion_bonus = scorer.insertion_bonus
    return options


def beam_search_workspace_size(int64_t max_time, int64_t num_classes,
                               const int64_t[::1] input_lengths,  # IN
                               *, int beam_width, int top_paths, bint with_scorer, int num_threads):
    cdef fastctc_batch batch = make_batch(max_time, num_classes, input_lengths, None, None)
    cdef fastctc_options options = make_options(0, False, False, num_threads)
    cdef fastctc_decoder_options decoder_options = make_decoder_options(False, beam_width, top_paths, None, None)
    if with_scorer:
        decoder_options.scorer.score = call_scorer  # sizes the scorer's rows; never called
    cdef size_t nbytes = 0
    raise_for_status(fastctc_beam_search_workspace_size(&batch, &options, &decoder_options, &nbytes))
    return nbytes


def beam_search(const real[:, :, :] inputs,          # IN  (T, N, C), any strides
                const int64_t[::1] input_lengths,    # IN  (N,)
                *, int blank, bint log_probs, int beam_width, int top_paths, object prune_logp,
                ScorerCall scorer, int num_threads,
                int32_t[:, :, ::1] tokens_out,       # OUT (N, P, T)
                int64_t[:, :, ::1] token_frames_out, # OUT (N, P, T)
                int64_t[:, ::1] token_counts_out,    # OUT (N, P)
                real[:, ::1] log_probs_out,          # OUT (N, P)
                real[:, ::1] scores_out,             # OUT (N, P)
                unsigned char[::1] workspace):       # SCRATCH
    cdef fastctc_batch batch = make_batch(inputs.shape[0], inputs.shape[2], input_lengths, None, None)
    cdef fastctc_options options = make_options(blank, log_probs, False, num_threads)
    cdef fastctc_decoder_options decoder_options = make_decoder_options(False, beam_width, top_paths,
                                                                        prune_logp, scorer)
    cdef int64_t input_strides[3]
    element_strides(inputs, input_strides)
    cdef const real *inputs_ptr = first_element(inputs)
    cdef bint has_paths = token_counts_out.shape[0] > 0
    cdef bint has_frames = has_paths and tokens_out.shape[2] > 0
    cdef int32_t *tokens_ptr = &tokens_out[0, 0, 0] if has_frames else NULL
    cdef int64_t *frames_ptr = &token_frames_out[0, 0, 0] if has_frames else NULL
    cdef int64_t *counts_ptr = &token_counts_out[0, 0] if has_paths else NULL
    cdef real *log_probs_ptr = &log_probs_out[0, 0] if has_paths else NULL
    cdef real *scores_ptr = &scores_out[0, 0] if has_paths else NULL
    cdef void *workspace_ptr = &workspace[0] if workspace.shape[0] else NULL
    cdef size_t workspace_bytes = workspace.shape[0]
    cdef fastctc_status status
    with nogil:
        if real is float:
            status = fastctc_beam_search_f32(&batch, &options, &decoder_options, inputs_ptr, input_strides,
                                             tokens_ptr, frames_ptr, counts_ptr, log_probs_ptr, scores_ptr,
                                             workspace_ptr, workspace_bytes)
        else:
            status = fastctc_beam_search_f64(&batch, &options, &decoder_options, inputs_ptr, input_strides,
                                             tokens_ptr, frames_ptr, counts_ptr, log_probs_ptr, scores_ptr,
                                             workspace_ptr, workspace_bytes)
    if status == FASTCTC_STATUS_SCORER_FAILED and scorer is not None and scorer.error is not None:
        raise scorer.error
    raise_for_status(status)
