// FASTCTC_HOST_DEVICE marks the small inline functions that the C++ core and
// the CUDA kernels share (the lattice rules, log-space arithmetic, argument
// rules), so both compile the same definition: __host__ __device__ under nvcc,
// nothing for a host compiler.
#pragma once

#ifdef __CUDACC__
#define FASTCTC_HOST_DEVICE __host__ __device__
#else
#define FASTCTC_HOST_DEVICE
#endif
