/*
 * fastctc — the CUDA C API: the CTC loss and gradient of ctc.h on the GPU.
 *
 * The same shape as ctc.h, whose options, batch struct, status codes, memory
 * layout (element strides, concatenated labels), gradient conventions and
 * special values (+inf for impossible alignments, NaN that stays in its
 * sequence, zero gradient past input_lengths[n]) all hold here.  What differs:
 *
 * Where things live.  Device memory (on the current device of the calling
 * thread): inputs, losses, grad, grad_scale, the workspace, and the batch's
 * input_lengths, label_lengths and labels.  Host memory: the structs, the
 * stride arrays, and four extents: max_time, batch_size, num_classes, and
 * max_label_length, a bound on every label_lengths[n] (the padded label width)
 * that sizes the workspace.  The host therefore never reads device memory.
 *
 * Streams.  A compute call enqueues its kernels on `stream` (NULL: the legacy
 * default stream) and returns without waiting for them: it synchronises
 * nothing, allocates nothing and copies nothing.  Its outputs are ready when
 * the stream reaches that point; the inputs and the workspace must stay valid
 * and unmodified until then (free or reuse them in stream order).
 *
 * Errors.  The host-side arguments are checked before anything is enqueued,
 * and a failure returns a status as in ctc.h with nothing enqueued.  A failed
 * kernel launch returns FASTCTC_STATUS_CUDA_ERROR and leaves the CUDA error for
 * cudaGetLastError().  The device-resident lengths and labels cannot be checked
 * without waiting for the GPU, so the kernels check them: if any input length
 * is outside [0, max_time], any label length outside [0, max_label_length], or
 * any label outside [0, num_classes) or equal to the blank, every loss and
 * every gradient element of the call is NaN.  Whatever those values, no
 * kernel reads or writes outside the arrays (labels must hold
 * sum(label_lengths) entries, as in ctc.h).
 *
 * Determinism.  No atomics, and every reduction runs in a fixed order: the
 * same call on the same device and build gives bit-identical results.
 *
 * Numerics.  Double precision whatever the input type, so results match the
 * CPU core to rounding (float64 to about 1e-12 relative, float32 to the last
 * bits of a float).  The loss alone is computed in log space.  With a
 * gradient, the lattice is computed in probability space with a power-of-two
 * scale per group of 32 states, and every frame is certified (what underflow
 * can have cost it is below 2^-80 of p(l|x)); the sequences that cannot be are
 * recomputed in log space by the same call.  So the loss alone and the loss
 * with the gradient agree to rounding, not to the bit.
 *
 * Memory.  With a gradient the workspace holds alpha and beta for the whole
 * lattice, 2 x N x T x (2 * max_label_length + 1) doubles, the emissions of
 * each label position, N x T x (max_label_length + 1) doubles, and a 32-bit
 * scale per 32 states of alpha and beta; without, two rows per sequence.
 * Plus O(N x T) for the log-softmax normalisers and O(N x max_label_length)
 * for the label structure.  No label length is capped.
 *
 * options->num_threads is ignored.
 */
#ifndef FASTCTC_CTC_CUDA_H
#define FASTCTC_CTC_CUDA_H

#include "fastctc/ctc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A CUDA stream without including the CUDA headers: the runtime's
 * cudaStream_t and the driver's CUstream are both struct CUstream_st *. */
typedef struct CUstream_st *fastctc_cuda_stream;

/* Bytes of device workspace that a compute call with this batch, bound and
 * options needs.  Reads batch->max_time, batch_size and num_classes only (the
 * length and label pointers may be NULL).
 * [in]  max_label_length  >= every label_lengths[n] of the compute call
 * [in]  with_grad         nonzero when grad will be requested
 * [out] *bytes */
FASTCTC_API fastctc_status fastctc_cuda_workspace_size(const fastctc_batch *batch,
                                                       int64_t max_label_length,
                                                       const fastctc_options *options,
                                                       int with_grad, size_t *bytes);

/* The CTC loss, and optionally its gradient, for every sequence of a batch,
 * enqueued on stream.  Arguments as fastctc_ctc_loss_f32/_f64 in ctc.h, with
 * every array in device memory except the structs and the two stride arrays:
 *
 * [in]  batch               extents on the host; input_lengths, label_lengths
 *                           and labels in device memory
 * [in]  max_label_length    as given to fastctc_cuda_workspace_size()
 * [in]  options             as in ctc.h (num_threads ignored)
 * [in]  inputs              (T, N, C) device array, through input_strides
 * [in]  input_strides       3 element strides (time, batch, class), host
 * [out] losses              N device entries
 * [out] grad                (T, N, C) device array or NULL for the loss only
 * [in]  grad_strides        3 element strides of grad, host
 * [in]  grad_scale          N device factors, or NULL for 1
 * [in]  workspace           at least fastctc_cuda_workspace_size() bytes of
 *                           device memory, any alignment
 * [in]  workspace_bytes     its size
 * [in]  stream              the stream the kernels are enqueued on
 */
FASTCTC_API fastctc_status fastctc_cuda_ctc_loss_f32(
    const fastctc_batch *batch, int64_t max_label_length, const fastctc_options *options,
    const float *inputs, const int64_t input_strides[3], float *losses, float *grad,
    const int64_t grad_strides[3], const float *grad_scale, void *workspace,
    size_t workspace_bytes, fastctc_cuda_stream stream);

FASTCTC_API fastctc_status fastctc_cuda_ctc_loss_f64(
    const fastctc_batch *batch, int64_t max_label_length, const fastctc_options *options,
    const double *inputs, const int64_t input_strides[3], double *losses, double *grad,
    const int64_t grad_strides[3], const double *grad_scale, void *workspace,
    size_t workspace_bytes, fastctc_cuda_stream stream);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FASTCTC_CTC_CUDA_H */
