// How much faster two threads are than one on this machine, for work that needs
// nothing but its own core: each thread scales and shifts its own 32 KiB array,
// which stays in its L1 cache, and the total work is the same for any thread
// count.  fastctc's 1 -> 2 thread speedup cannot exceed what this prints.
//
//     g++ -O3 -mavx2 -fopenmp benchmarks/thread_scaling.cpp -o /tmp/thread_scaling
//     /tmp/thread_scaling
#include <omp.h>

#include <cstdio>
#include <vector>

int main() {
    constexpr int kValues = 4096;         // per thread: 32 KiB of doubles
    constexpr long kPasses = 4'000'000;   // over all threads together
    std::vector<double> values(2 * kValues, 1.0);
    double best[3] = {};
    for (int threads = 1; threads <= 2; ++threads) {
        best[threads] = 1e30;
        for (int round = 0; round < 7; ++round) {
            const double start = omp_get_wtime();
#pragma omp parallel num_threads(threads)
            {
                double *mine = values.data() + omp_get_thread_num() * kValues;
                for (long pass = 0; pass < kPasses / threads; ++pass)
                    for (int i = 0; i < kValues; ++i) mine[i] = mine[i] * 0.999999 + 1e-9;
            }
            const double seconds = omp_get_wtime() - start;
            if (seconds < best[threads]) best[threads] = seconds;
        }
        std::printf("%d thread%s: %.3f s (best of 7)\n", threads, threads > 1 ? "s" : "", best[threads]);
    }
    std::printf("speedup: %.2fx (%.3f)\n", best[1] / best[2], values[0]);
}
