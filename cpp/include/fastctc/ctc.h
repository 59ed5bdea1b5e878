/*
 * fastctc — the C API of the CTC (Connectionist Temporal Classification) core.
 *
 * This header is the only seam between the native core and its callers: the
 * Python binding, C/C++ trainers, and (with device pointers) the CUDA unit.
 *
 * Linking.  With CMake, find_package(fastctc) and link fastctc::fastctc: the
 * package comes from a plain `cmake --install` of this project or from the
 * Python package (fastctc.get_cmake_dir(), `python -m fastctc --cmake-dir`),
 * which ships the same header and shared library.  The library brings its own
 * OpenMP runtime dependency; its users need no OpenMP.  While the version is
 * 0.x, only releases of the same minor version (0.1.*) share a binary interface.
 *
 * Notation (Graves et al. 2006): T frames, N sequences in a batch, C classes
 * including the blank.  Sequence n uses its first input_lengths[n] frames and
 * its label l of label_lengths[n] classes; the extended label l' inserts a
 * blank before, between and after the labels, so |l'| = 2 * |l| + 1.
 *
 * Memory layout.  Every (T, N, C) array is addressed through three element
 * strides (not byte strides), in (time, batch, class) order:
 *
 *     inputs[t * strides[0] + n * strides[1] + c * strides[2]]
 *
 * so "TNC" row-major is {N * C, C, 1}, "NTC" row-major is {C, T * C, 1}, and
 * any view (transposed, sliced, negative strides) needs no copy.  The
 * gradient has its own strides, in the same order.
 *
 * Labels are concatenated: sequence n's label is
 *     labels[offset_n .. offset_n + label_lengths[n] - 1],
 *     offset_n = label_lengths[0] + ... + label_lengths[n - 1].
 *
 * Ownership.  The library allocates nothing inside a compute call.  The caller
 * owns every array, including the workspace, whose size it obtains from
 * fastctc_workspace_size() with the same batch and options.  Arrays must stay
 * valid, and outputs unshared with inputs, for the duration of the call.
 * The strings the library returns are static: never free or modify them.
 *
 * Thread safety.  Functions keep no global state: concurrent calls are safe as
 * long as they do not share output or workspace buffers.  A compute call runs
 * an OpenMP parallel region of options->num_threads threads (OpenMP's default
 * when <= 0); with one thread it runs a plain loop and never enters the OpenMP
 * runtime.
 *
 * fork().  GNU libgomp cannot start threads in a child forked after the parent
 * ran a parallel region: the child would hang.  There, pass num_threads = 1.
 *
 * Determinism.  Each sequence is computed by one thread in a fixed order, so
 * results are bit-identical for any thread count.
 *
 * Errors.  Every function that takes arguments returns a fastctc_status (the
 * enum below lists each code and its cause; fastctc_status_string() words
 * it); nothing is printed, the process is never aborted and no C++ exception
 * crosses this boundary.  The arguments are validated before any output is
 * written, so a call that fails leaves losses, grad and *bytes untouched.
 */
#ifndef FASTCTC_CTC_H
#define FASTCTC_CTC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* FASTCTC_API marks the exported functions.  The library is built with hidden
 * symbols, so these are its whole binary interface.  On Windows the library
 * defines FASTCTC_BUILDING while it is compiled (export), and the CMake target
 * fastctc::fastctc defines FASTCTC_SHARED for its users (import from the DLL). */
#if defined(_WIN32)
#  if defined(FASTCTC_BUILDING)
#    define FASTCTC_API __declspec(dllexport)
#  elif defined(FASTCTC_SHARED)
#    define FASTCTC_API __declspec(dllimport)
#  else
#    define FASTCTC_API
#  endif
#elif defined(__GNUC__)
#  define FASTCTC_API __attribute__((visibility("default")))
#else
#  define FASTCTC_API
#endif

typedef enum fastctc_status {
    FASTCTC_STATUS_SUCCESS = 0,
    /* A null pointer where an array is required, a negative or out-of-range
     * size, length, label or blank, or a label equal to the blank. */
    FASTCTC_STATUS_INVALID_VALUE = 1,
    /* workspace_bytes is smaller than fastctc_workspace_size() reported. */
    FASTCTC_STATUS_WORKSPACE_TOO_SMALL = 2,
    /* A size computation would overflow size_t or int64_t. */
    FASTCTC_STATUS_SIZE_OVERFLOW = 3,
    /* A beam search's language-model callback returned nonzero. */
    FASTCTC_STATUS_SCORER_FAILED = 4,
    /* A kernel launch failed (ctc_cuda.h only); cudaGetLastError() tells why. */
    FASTCTC_STATUS_CUDA_ERROR = 5
} fastctc_status;

/* A static, human-readable description of a status; never NULL. */
FASTCTC_API const char *fastctc_status_string(fastctc_status status);

/* The instruction-set level of the kernels in use, e.g. "baseline"; never NULL.
 * Where it is "avx512" and FASTCTC_SIMD names no level, batches of log-scores, and
 * those whose alphabet is small next to their longest label, run the AVX2
 * kernels, which give the same results. */
FASTCTC_API const char *fastctc_simd_level(void);

/* Facts about this build of the library, for bug reports and for checking
 * that a program runs against the library it was built for.  Each string is
 * static and never NULL.
 *   fastctc_version():         the release, e.g. "0.1.0": the version of the
 *                              Python package and of the CMake package
 *   fastctc_compiler():        the compiler that built the library, e.g. "GNU 12.2.0"
 *   fastctc_openmp_version():  the OpenMP specification it was compiled
 *                              against, as the _OPENMP date yyyymm (201511 is
 *                              OpenMP 4.5); 0 when built without OpenMP
 *   fastctc_openmp_library():  the file of the OpenMP runtime this process
 *                              has loaded for the library, or "" where the
 *                              platform cannot tell (Windows) */
FASTCTC_API const char *fastctc_version(void);
FASTCTC_API const char *fastctc_compiler(void);
FASTCTC_API int fastctc_openmp_version(void);
FASTCTC_API const char *fastctc_openmp_library(void);

/* Options.  Zero-initialise for forward compatibility ({0} gives: blank 0,
 * logits in, +inf for impossible alignments, OpenMP's default thread count);
 * later versions only append fields whose zero value keeps today's behaviour. */
typedef struct fastctc_options {
    int32_t blank;         /* [in] blank class, in [0, num_classes) */
    int32_t log_probs;     /* [in] 0: inputs are logits, the softmax is folded in
                                   and grad is d loss / d logits
                                   (softmax - posterior occupancy);
                                   nonzero: inputs are log-scores used as given
                                   (not renormalised) and grad is
                                   d loss / d inputs (- posterior occupancy) */
    int32_t zero_infinity; /* [in] nonzero: an impossible sequence gets loss 0
                                   instead of +inf (its gradient is 0 either way) */
    int32_t num_threads;   /* [in] OpenMP threads; <= 0: omp_get_max_threads();
                                   at most 1024 are started (more could
                                   not be faster, and libgomp kills the
                                   process when it cannot start them) */
} fastctc_options;

/* The shape of a batch: everything the workspace size depends on. */
typedef struct fastctc_batch {
    int64_t max_time;              /* [in] T >= 0, frames in the inputs array */
    int64_t batch_size;            /* [in] N >= 0 */
    int64_t num_classes;           /* [in] C >= 1, including the blank */
    const int64_t *input_lengths;  /* [in] N entries, each in [0, T] */
    const int64_t *label_lengths;  /* [in] N entries, each >= 0 */
    const int32_t *labels;         /* [in] sum(label_lengths) classes, concatenated,
                                           each in [0, C) and != blank; may be
                                           NULL for the workspace query */
} fastctc_batch;

/* Bytes of workspace that a compute call with this batch and these options
 * needs: O(num_threads * longest sequence), never O(T * N * C).
 * with_grad: nonzero when grad will be requested; such a workspace also serves
 * the loss alone (grad NULL) of the same batch.
 * [out] *bytes. */
FASTCTC_API fastctc_status fastctc_workspace_size(const fastctc_batch *batch,
                                                  const fastctc_options *options,
                                                  int with_grad, size_t *bytes);

/* The CTC loss, and optionally its gradient, for every sequence of a batch.
 *
 * [in]  batch, options       as above
 * [in]  inputs               (T, N, C) logits or log-scores, addressed through
 *                            input_strides; may be NULL when T * N * C == 0
 * [in]  input_strides        3 element strides (time, batch, class)
 * [out] losses               N entries: -ln p(l|x) per sequence; +inf (or 0
 *                            with zero_infinity) when no alignment is possible;
 *                            NaN when the sequence's inputs hold a NaN it reads
 * [out] grad                 (T, N, C) or NULL for the loss only; frames at or
 *                            past input_lengths[n] and impossible sequences get 0;
 *                            scaled per sequence by grad_scale
 * [in]  grad_strides         3 element strides of grad; ignored when grad is NULL
 * [in]  grad_scale           N factors applied to sequence n's gradient (for a
 *                            reduction or an upstream gradient), or NULL for 1
 * [in]  workspace            at least fastctc_workspace_size() bytes, any alignment
 * [in]  workspace_bytes      its size
 */
FASTCTC_API fastctc_status fastctc_ctc_loss_f32(
    const fastctc_batch *batch, const fastctc_options *options,
    const float *inputs, const int64_t input_strides[3], float *losses,
    float *grad, const int64_t grad_strides[3], const float *grad_scale,
    void *workspace, size_t workspace_bytes);

FASTCTC_API fastctc_status fastctc_ctc_loss_f64(
    const fastctc_batch *batch, const fastctc_options *options,
    const double *inputs, const int64_t input_strides[3], double *losses,
    double *grad, const int64_t grad_strides[3], const double *grad_scale,
    void *workspace, size_t workspace_bytes);

/* ------------------------------------------------------------------------
 * Alignment and decoding.
 *
 * These take the batch, options and inputs of the loss.  options->zero_infinity
 * is not read.  The decoders (greedy, beam search) read no labels: there,
 * batch->labels and batch->label_lengths may be NULL.  Per-sequence outputs
 * over frames are row-major (N, T) arrays: out[n * T + t], T = max_time.
 * ------------------------------------------------------------------------ */

/* Posterior occupancies: for each frame, the probability over the
 * alignments of the label (weighted by their probability) that the frame
 * emits class k, and that it is in state s of l' (Graves et al. 2006,
 * eqs. (14)-(16)).  Each sums to 1 over k, and over s, on every frame within
 * the input length.  The workspace is fastctc_workspace_size() with
 * with_grad = 1.
 *
 * [in]  batch, options, inputs, input_strides   as for the loss
 * [out] log_likelihoods  N entries: ln p(l|x); -inf when no alignment is
 *                        possible (all its occupancies are then 0)
 * [out] class_occupancy  (T, N, C) through class_strides, like grad: 0 past
 *                        input_lengths[n]
 * [in]  class_strides    3 element strides
 * [out] state_occupancy  (T, N, S) through state_strides, or NULL, with
 *                        S = 2 * max_n label_lengths[n] + 1: 0 for states
 *                        s >= |l'_n| and past input_lengths[n]
 * [in]  state_strides    3 element strides; ignored when state_occupancy is NULL
 */
FASTCTC_API fastctc_status fastctc_ctc_posteriors_f32(
    const fastctc_batch *batch, const fastctc_options *options,
    const float *inputs, const int64_t input_strides[3], float *log_likelihoods,
    float *class_occupancy, const int64_t class_strides[3], float *state_occupancy,
    const int64_t state_strides[3], void *workspace, size_t workspace_bytes);

FASTCTC_API fastctc_status fastctc_ctc_posteriors_f64(
    const fastctc_batch *batch, const fastctc_options *options,
    const double *inputs, const int64_t input_strides[3], double *log_likelihoods,
    double *class_occupancy, const int64_t class_strides[3], double *state_occupancy,
    const int64_t state_strides[3], void *workspace, size_t workspace_bytes);

/* Bytes of workspace for fastctc_forced_align_*: O(num_threads * largest
 * T_n * |l'_n|) bytes of back-pointers, never O(T * N * C).  [out] *bytes. */
FASTCTC_API fastctc_status fastctc_align_workspace_size(const fastctc_batch *batch,
                                                        const fastctc_options *options,
                                                        size_t *bytes);

/* Forced alignment: the single most probable path (Viterbi) through each
 * sequence's CTC lattice, among the paths that collapse to its label.
 * Ties between equally probable predecessors go to staying in the state,
 * then to the step from the state before, then to the skip; at the end, to
 * the final blank over the last label.
 *
 * [in]  batch, options, inputs, input_strides   as for the loss
 * [out] path_scores      N entries: ln of the best path's probability (the
 *                        sum of its frame_log_probs); -inf when the sequence
 *                        has no path (too few frames, or zero probability),
 *                        NaN when it reads a NaN; no path is written then
 * [out] frame_states     (N, T): the state s of l' (2j + 1 for label j, even
 *                        for a blank) the path occupies at frame t; -1 past
 *                        input_lengths[n] and for a sequence without a path
 * [out] frame_log_probs  (N, T): ln y^t_k of the class k = l'_s emitted there;
 *                        0 where frame_states is -1
 * [out] token_starts     sum(label_lengths) entries, laid out like labels:
 *                        the first frame of label j on the path; -1 without
 *                        a path
 * [out] token_ends       likewise, one past the last frame of label j
 * [out] token_scores     likewise, the mean of e^{frame_log_probs} over the
 *                        frames of label j (its average probability); NaN
 *                        without a path
 * [in]  workspace, workspace_bytes   at least fastctc_align_workspace_size()
 */
FASTCTC_API fastctc_status fastctc_forced_align_f32(
    const fastctc_batch *batch, const fastctc_options *options,
    const float *inputs, const int64_t input_strides[3], float *path_scores,
    int32_t *frame_states, float *frame_log_probs, int64_t *token_starts,
    int64_t *token_ends, float *token_scores, void *workspace, size_t workspace_bytes);

FASTCTC_API fastctc_status fastctc_forced_align_f64(
    const fastctc_batch *batch, const fastctc_options *options,
    const double *inputs, const int64_t input_strides[3], double *path_scores,
    int32_t *frame_states, double *frame_log_probs, int64_t *token_starts,
    int64_t *token_ends, double *token_scores, void *workspace, size_t workspace_bytes);

/* A language model for the beam search.  score() fills scores[0..C) for the
 * prefix (length tokens, oldest first): scores[k] is the log-score of
 * appending class k, scores[blank] that of ending the sequence after the
 * prefix.  It returns 0, or nonzero to abort the search.  With several
 * threads it is called concurrently and must be thread-safe. */
typedef int (*fastctc_score_fn)(void *context, const int32_t *prefix, int64_t length,
                                double *scores);

typedef struct fastctc_scorer {
    fastctc_score_fn score;   /* [in] NULL: no language model */
    void *context;            /* [in] passed to score() */
    double weight;            /* [in] the log-scores are multiplied by weight */
    double insertion_bonus;   /* [in] added for every token appended */
} fastctc_scorer;

/* Decoder options.  Zero-initialise for forward compatibility. */
typedef struct fastctc_decoder_options {
    int32_t keep_repeated;   /* [in] greedy only: nonzero keeps repeated classes
                                     (blanks are still dropped); 0 merges them */
    int32_t beam_width;      /* [in] prefixes kept per frame; <= 0: 100 */
    int32_t top_paths;       /* [in] hypotheses returned, <= beam_width; <= 0: 1 */
    int32_t use_prune_logp;  /* [in] nonzero: classes whose ln y^t_k is below
                                     prune_logp at frame t extend no prefix there */
    double prune_logp;       /* [in] see use_prune_logp */
    fastctc_scorer scorer;   /* [in] optional language model */
} fastctc_decoder_options;

/* Best-path decoding: the most probable class of each frame (the first one
 * on ties; a NaN counts as the largest, as in NumPy's argmax), with repeats
 * merged unless keep_repeated, and blanks dropped.
 *
 * [in]  batch, options, decoder_options, inputs, input_strides
 * [out] tokens         (N, T): the decoded classes of sequence n first
 * [out] token_frames   (N, T): the frame where each token's run starts
 * [out] token_counts   N entries: how many tokens sequence n decoded
 * [out] scores         N entries: ln of the best path's probability,
 *                      sum_t max_k ln y^t_k (0 for an empty input)
 */
FASTCTC_API fastctc_status fastctc_greedy_decode_f32(
    const fastctc_batch *batch, const fastctc_options *options,
    const fastctc_decoder_options *decoder_options, const float *inputs,
    const int64_t input_strides[3], int32_t *tokens, int64_t *token_frames,
    int64_t *token_counts, float *scores);

FASTCTC_API fastctc_status fastctc_greedy_decode_f64(
    const fastctc_batch *batch, const fastctc_options *options,
    const fastctc_decoder_options *decoder_options, const double *inputs,
    const int64_t input_strides[3], int32_t *tokens, int64_t *token_frames,
    int64_t *token_counts, double *scores);

/* Bytes of workspace for fastctc_beam_search_*: O(num_threads * beam_width *
 * (longest T_n + C)) with a scorer, O(num_threads * (beam_width * longest T_n
 * + C)) without.  [out] *bytes. */
FASTCTC_API fastctc_status fastctc_beam_search_workspace_size(
    const fastctc_batch *batch, const fastctc_options *options,
    const fastctc_decoder_options *decoder_options, size_t *bytes);

/* CTC prefix beam search (Graves 2012, Sec. 7.5; Hannun et al. 2014): keeps
 * the beam_width most probable label prefixes, each with its probability of
 * ending in a blank and in a label, and returns the top_paths best.
 *
 * With P = top_paths, hypothesis p of sequence n is at i = n * P + p:
 * [out] tokens        (N, P, T): tokens[i * T + k], k < token_counts[i]
 * [out] token_frames  (N, P, T): the frame at which each token was first
 *                     appended to the prefix during the search
 * [out] token_counts  N * P entries; -1 where sequence n has fewer than p + 1
 *                     hypotheses of nonzero probability (a NaN in its inputs
 *                     gives none)
 * [out] log_probs     N * P entries: ln of the prefix's probability summed over
 *                     the alignments the search kept (exact when nothing was
 *                     pruned); NaN where token_counts is -1
 * [out] scores        N * P entries: log_probs + weight * (the scorer's
 *                     log-scores of the tokens and of the end) + insertion_bonus
 *                     * token_counts; the ranking; equal to log_probs without
 *                     a scorer; NaN where token_counts is -1
 * [in]  workspace, workspace_bytes   at least fastctc_beam_search_workspace_size()
 * Returns FASTCTC_STATUS_SCORER_FAILED when score() returned nonzero; the
 * outputs are then unspecified.
 */
FASTCTC_API fastctc_status fastctc_beam_search_f32(
    const fastctc_batch *batch, const fastctc_options *options,
    const fastctc_decoder_options *decoder_options, const float *inputs,
    const int64_t input_strides[3], int32_t *tokens, int64_t *token_frames,
    int64_t *token_counts, float *log_probs, float *scores, void *workspace,
    size_t workspace_bytes);

FASTCTC_API fastctc_status fastctc_beam_search_f64(
    const fastctc_batch *batch, const fastctc_options *options,
    const fastctc_decoder_options *decoder_options, const double *inputs,
    const int64_t input_strides[3], int32_t *tokens, int64_t *token_frames,
    int64_t *token_counts, double *log_probs, double *scores, void *workspace,
    size_t workspace_bytes);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FASTCTC_CTC_H */
