/*
 * fastctc — the C API of the CTC (Connectionist Temporal Classification) core.
 *
 * This header is the only seam between the native core and its callers: the
 * Python binding, C/C++ trainers, and (with device pointers) the CUDA unit.
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
 *
 * Thread safety.  Functions keep no global state: concurrent calls are safe as
 * long as they do not share output or workspace buffers.  A compute call runs
 * an OpenMP parallel region of options->num_threads threads; with one thread
 * it runs a plain loop and never enters the OpenMP runtime.
 *
 * fork().  GNU libgomp cannot start threads in a child forked after the parent
 * ran a parallel region: the child would hang.  There, pass num_threads = 1.
 *
 * Determinism.  Each sequence is computed by one thread in a fixed order, so
 * results are bit-identical for any thread count.
 *
 * Errors.  Every function returns a fastctc_status; nothing is printed, the
 * process is never aborted and no C++ exception crosses this boundary.  The
 * arguments are validated before any output is written, so a call that fails
 * leaves losses and grad untouched.
 */
#ifndef FASTCTC_CTC_H
#define FASTCTC_CTC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(FASTCTC_SHARED)
#  ifdef FASTCTC_BUILDING
#    define FASTCTC_API __declspec(dllexport)
#  else
#    define FASTCTC_API __declspec(dllimport)
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
    /* A kernel launch failed (ctc_cuda.h only); cudaGetLastError() tells why. */
    FASTCTC_STATUS_CUDA_ERROR = 4
} fastctc_status;

/* A static, human-readable description of a status; never NULL. */
FASTCTC_API const char *fastctc_status_string(fastctc_status status);

/* The instruction-set level of the kernels in use, e.g. "baseline"; never NULL. */
FASTCTC_API const char *fastctc_simd_level(void);

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
    int32_t num_threads;   /* [in] OpenMP threads; <= 0: omp_get_max_threads() */
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
 * with_grad: nonzero when grad will be requested.
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

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FASTCTC_CTC_H */
