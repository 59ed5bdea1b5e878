// The OpenMP runtime queries the core needs, with a serial fallback for a
// compiler built without OpenMP.
#pragma once

#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ieee_arithmetic.hpp"
#include "isa.hpp"

namespace fastctc::FASTCTC_ISA {

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

// The number of threads in the current team (1 outside a parallel region, and
// inside a nested one OpenMP did not give more).
inline int team_size() {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

// Calls body(i, thread) for i in [0, count) on `threads` OpenMP threads, with a
// dynamic schedule in index order, each thread in IeeeArithmetic.  One thread
// runs a plain loop and never enters the OpenMP runtime: after fork(), GNU
// libgomp hangs in the child at the next multi-threaded region, and a serial
// call must still work there.
template <typename Body>
void parallel_for_dynamic(int threads, int64_t count, Body body) {
    if (threads <= 1) {
        const IeeeArithmetic ieee;
        for (int64_t i = 0; i < count; ++i) body(i, 0);
        return;
    }
#pragma omp parallel num_threads(threads)
    {
        const IeeeArithmetic ieee;
#pragma omp for schedule(dynamic, 1)
        for (int64_t i = 0; i < count; ++i) body(i, thread_index());
    }
}

// More threads than this are never started: far more than any machine has
// cores, and far fewer than the tens of thousands at which thread creation
// fails, where GNU libgomp kills the process (exit or SIGSEGV).
inline constexpr int64_t kMaxThreads = 1024;

// The threads a call uses: the requested count (or OpenMP's default when
// <= 0), never more than there are sequences to share out, nor kMaxThreads.
inline int resolve_num_threads(int32_t requested, int64_t batch_size) {
    int64_t threads = requested > 0 ? requested : default_num_threads();
    if (threads > batch_size) threads = batch_size;
    if (threads > kMaxThreads) threads = kMaxThreads;
    return threads < 1 ? 1 : int(threads);
}

}  // namespace fastctc::FASTCTC_ISA
