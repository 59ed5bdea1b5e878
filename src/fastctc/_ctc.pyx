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
- A status other than success becomes a Python exception with the core's message.
  The C declarations and that conversion live in _ctc_api.pxd, shared with the
  CUDA binding (_ctc_cuda.pyx).
"""
from libc.stdint cimport int32_t, int64_t

from fastctc._ctc_api cimport (
    fastctc_batch,
    fastctc_ctc_loss_f32,
    fastctc_ctc_loss_f64,
    fastctc_options,
    fastctc_simd_level,
    fastctc_status,
    fastctc_workspace_size,
    make_options,
    raise_for_status,
)


ctypedef fused real:
    float
    double


cdef fastctc_batch make_batch(int64_t max_time, int64_t num_classes,
                              const int64_t[::1] input_lengths,  # IN
                              const int64_t[::1] label_lengths,  # IN
                              const int32_t[::1] labels):        # IN, or None
    cdef fastctc_batch batch
    batch.max_time = max_time
    batch.batch_size = input_lengths.shape[0]
    batch.num_classes = num_classes
    batch.input_lengths = &input_lengths[0] if input_lengths.shape[0] else NULL
    batch.label_lengths = &label_lengths[0] if label_lengths.shape[0] else NULL
    batch.labels = &labels[0] if labels is not None and labels.shape[0] else NULL
    return batch


def simd_level():
    return fastctc_simd_level().decode()


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
    cdef const real *inputs_ptr = NULL
    cdef real *grad_ptr = NULL
    cdef const real *scale_ptr = NULL
    cdef fastctc_status status
    cdef int i
    for i in range(3):
        input_strides[i] = inputs.strides[i] // <int64_t>sizeof(real)
        grad_strides[i] = 0
    if inputs.shape[0] and inputs.shape[1]:
        inputs_ptr = &inputs[0, 0, 0]
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
    raise_for_status(status)
