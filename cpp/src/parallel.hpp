// The OpenMP runtime queries the core needs, with a serial fallback for a
// compiler built without OpenMP.
#pragma once

#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastctc {

inline int default_num_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

inline int thread_index() {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

// The threads a call uses: the requested count (or OpenMP's default when
// <= 0), never more than there are sequences to share out.
inline int resolve_num_threads(int32_t requested, int64_t batch_size) {
    int64_t threads = requested > 0 ? requested : default_num_threads();
    if (threads > batch_size) threads = batch_size;
    return threads < 1 ? 1 : int(threads);
}

}  // namespace fastctc
