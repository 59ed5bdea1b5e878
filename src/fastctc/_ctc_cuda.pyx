# cython: language_level=3
"""The binding between fastctc.cuda and the CUDA C API (cpp/include/fastctc/ctc_cuda.h).

Design:
- One function per C entry point. Arguments arrive checked and normalised by
  fastctc.cuda (with _api.py's checks): device memory as integer addresses,
  strides as element strides in (time, batch, class) order, the stream as an
  integer handle, outputs and workspace already allocated. No algorithm and no
  array protocol lives here.
- The call runs with the array's device current (the previous one is restored),
  so arrays on any GPU work whatever device the caller's framework made current.
- One `with nogil:` around the native call, which only enqueues kernels on the
  stream and returns.
- A status other than success becomes a Python exception (_ctc_api.pxd); a failed
  launch adds the CUDA error, which is taken (and so cleared) with cudaGetLastError.
"""
from libc.stdint cimport int32_t, int64_t, uintptr_t

from fastctc._ctc_api cimport (
    FASTCTC_STATUS_CUDA_ERROR,
    fastctc_batch,
    fastctc_options,
    fastctc_status,
    make_options,
    raise_for_status,
)


cdef extern from "cuda_runtime_api.h" nogil:
    ctypedef enum cudaError_t:
        cudaSuccess
    cudaError_t cudaGetLastError()
    const char *cudaGetErrorName(cudaError_t error)
    const char *cudaGetErrorString(cudaError_t error)
    cudaError_t cudaGetDevice(int *device)
    cudaError_t cudaSetDevice(int device)


cdef extern from "fastctc/ctc_cuda.h" nogil:
    ctypedef struct CUstream_st:
        pass
    ctypedef CUstream_st *fastctc_cuda_stream

    fastctc_status fastctc_cuda_workspace_size(const fastctc_batch *batch, int64_t max_label_length,
                                               const fastctc_options *options, int with_grad, size_t *bytes)
    fastctc_status fastctc_cuda_ctc_loss_f32(const fastctc_batch *batch, int64_t max_label_length,
                                             const fastctc_options *options, const float *inputs,
                                             const int64_t *input_strides, float *losses, float *grad,
                                             const int64_t *grad_strides, const float *grad_scale,
                                             void *workspace, size_t workspace_bytes,
                                             fastctc_cuda_stream stream)
    fastctc_status fastctc_cuda_ctc_loss_f64(const fastctc_batch *batch, int64_t max_label_length,
                                             const fastctc_options *options, const double *inputs,
                                             const int64_t *input_strides, double *losses, double *grad,
                                             const int64_t *grad_strides, const double *grad_scale,
                                             void *workspace, size_t workspace_bytes,
                                             fastctc_cuda_stream stream)


cdef int raise_for_cuda(cudaError_t error, str doing) except -1:
    if error != cudaSuccess:
        raise RuntimeError(f"CUDA error while {doing}: {cudaGetErrorName(error).decode()}: "
                           f"{cudaGetErrorString(error).decode()}")
    return 0


cdef fastctc_batch make_batch(int64_t max_time, int64_t batch_size, int64_t num_classes,
                              uintptr_t input_lengths, uintptr_t label_lengths, uintptr_t labels):
    cdef fastctc_batch batch
    batch.max_time = max_time
    batch.batch_size = batch_size
    batch.num_classes = num_classes
    batch.input_lengths = <const int64_t *>input_lengths  # device
    batch.label_lengths = <const int64_t *>label_lengths  # device
    batch.labels = <const int32_t *>labels                # device
    return batch


def workspace_size(int64_t max_time, int64_t batch_size, int64_t num_classes,
                   int64_t max_label_length, *, bint with_grad):
    cdef fastctc_batch batch = make_batch(max_time, batch_size, num_classes, 0, 0, 0)
    cdef fastctc_options options = make_options(0, False, False, 0)
    cdef size_t nbytes = 0
    raise_for_status(fastctc_cuda_workspace_size(&batch, max_label_length, &options, with_grad, &nbytes))
    return nbytes


def ctc_loss(*, int device, uintptr_t stream, bint double,
             uintptr_t inputs,                  # IN  (T, N, C) device array, any strides
             tuple input_strides,               #     its element strides (time, batch, class)
             int64_t max_time, int64_t batch_size, int64_t num_classes,
             int64_t max_label_length,
             uintptr_t input_lengths,           # IN  (N,) int64, device
             uintptr_t label_lengths,           # IN  (N,) int64, device
             uintptr_t labels,                  # IN  concatenated int32, device
             int blank, bint log_probs, bint zero_infinity,
             uintptr_t losses,                  # OUT (N,) device
             uintptr_t grad,                    # OUT (T, N, C) device array, or 0
             tuple grad_strides,                #     its element strides
             uintptr_t grad_scale,              # IN  (N,) device, or 0
             uintptr_t workspace,               # SCRATCH device
             size_t workspace_bytes):
    cdef fastctc_batch batch = make_batch(max_time, batch_size, num_classes, input_lengths,
                                          label_lengths, labels)
    cdef fastctc_options options = make_options(blank, log_probs, zero_infinity, 0)
    cdef int64_t in_strides[3]
    cdef int64_t out_strides[3]
    cdef int i
    for i in range(3):
        in_strides[i] = input_strides[i]
        out_strides[i] = grad_strides[i]
    cdef fastctc_status status
    cdef int previous = 0
    raise_for_cuda(cudaGetDevice(&previous), "reading the current device")
    if previous != device:
        raise_for_cuda(cudaSetDevice(device), f"making device {device} current")
    try:
        with nogil:
            if double:
                status = fastctc_cuda_ctc_loss_f64(
                    &batch, max_label_length, &options, <const double *>inputs, in_strides,
                    <double *>losses, <double *>grad, out_strides, <const double *>grad_scale,
                    <void *>workspace, workspace_bytes, <fastctc_cuda_stream>stream)
            else:
                status = fastctc_cuda_ctc_loss_f32(
                    &batch, max_label_length, &options, <const float *>inputs, in_strides,
                    <float *>losses, <float *>grad, out_strides, <const float *>grad_scale,
                    <void *>workspace, workspace_bytes, <fastctc_cuda_stream>stream)
        if status == FASTCTC_STATUS_CUDA_ERROR:
            error = cudaGetLastError()
            raise_for_status(status, f" ({cudaGetErrorName(error).decode()}: "
                                     f"{cudaGetErrorString(error).decode()})")
        raise_for_status(status)
    finally:
        if previous != device:
            raise_for_cuda(cudaSetDevice(previous), f"restoring device {previous}")
