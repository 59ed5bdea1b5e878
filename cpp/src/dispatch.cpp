// Chooses the kernels for this CPU, once per process.
//
// The widest level the CPU supports is used, unless the environment variable
// FASTCTC_SIMD names a level ("baseline", "avx2", "avx512"): then that one, or
// the widest supported level below it if the CPU lacks it.  The tests use the
// variable to check every level the machine has (tests/test_simd_levels.py).
//
// Left to choose, AVX-512 is used only for batches whose frames are read
// through long rows of exponentials (kernels_for()) and, on CPUs that run
// 512-bit instructions at full speed, for batches of short sequences in groups
// of eight (eight_lane_kernels()); the others, whose time goes to the lattice
// and to short rows, run the AVX2 kernels.  Measured on a Cascade Lake Xeon,
// where any 512-bit instruction lowers the core's clock for what follows:
// AVX-512 took 8-16% less time on rows of 160 to 5000 classes and 9-24% more on
// small alphabets, the class table and the lattice, each function slower alike.
// On an AMD EPYC of the Zen 5 generation, which does not lower its clock: the
// same on small alphabets within a few percent either way (one long label 3-5%
// slower, one sequence of 5000 frames 2-4% faster), but a group's eight lanes
// in one register instead of two took 2-7% less time (BENCHMARKS.md).  AMD's
// CPUs with AVX-512 (Zen 4 on) are taken to run it at full speed; Intel's are
// not (Ice Lake and later lower the clock less than Cascade Lake, but were not
// measured).  The two levels give the same bits: the same operations in the
// same order, fused multiply-adds where the source writes them.
#include <cstdlib>
#include <cstring>
#include <iterator>

#include "kernel_table.hpp"

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
#endif

namespace fastctc {
namespace {

enum class Level { baseline = 0, avx2 = 1, avx512 = 2 };

#if defined(FASTCTC_HAVE_AVX2) || defined(FASTCTC_HAVE_AVX512)
bool cpu_has(Level level) {
#if defined(__GNUC__)
    __builtin_cpu_init();
    if (level == Level::avx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
#elif defined(_MSC_VER)
    int info[4];
    __cpuidex(info, 7, 0);
    const bool avx2 = (info[1] >> 5) & 1, avx512 = ((info[1] >> 16) & 1) && ((info[1] >> 17) & 1) &&
                                                   ((info[1] >> 30) & 1) && ((info[1] >> 31) & 1);
    __cpuidex(info, 1, 0);
    const bool fma = (info[2] >> 12) & 1, os_saves_ymm = ((info[2] >> 27) & 1) && ((_xgetbv(0) & 6) == 6);
    if (level == Level::avx2) return avx2 && fma && os_saves_ymm;
    return avx512 && os_saves_ymm && ((_xgetbv(0) & 0xe6) == 0xe6);
#else
    (void)level;
    return false;
#endif
}
#endif

#if defined(FASTCTC_HAVE_AVX512)
// Whether the CPU is taken to run 512-bit instructions without lowering its
// clock (see above).
bool runs_512_bits_at_full_speed() {
#if defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_is("amd");
#elif defined(_MSC_VER)
    int info[4];
    __cpuid(info, 0);
    return info[1] == 0x68747541 && info[3] == 0x69746e65 && info[2] == 0x444d4163;  // "AuthenticAMD"
#else
    return false;
#endif
}
#endif

// Whether FASTCTC_SIMD names a level (which then runs every batch), and which.
bool named_level(Level *level) {
    static const char *const kNames[] = {"baseline", "avx2", "avx512"};  // in the order of Level
    const char *name = std::getenv("FASTCTC_SIMD");
    for (int k = 0; name && k < int(std::size(kNames)); ++k) {
        if (std::strcmp(name, kNames[k]) == 0) {
            *level = Level(k);
            return true;
        }
    }
    return false;
}

// Whether FASTCTC_SIMD names a level (read once).
bool level_forced() {
    static const bool named = [] {
        Level level;
        return named_level(&level);
    }();
    return named;
}

Level requested_level() {
    Level level = Level::avx512;  // unset or unknown: the widest
    named_level(&level);
    return level;
}

const KernelTable &choose() {
    const Level limit = requested_level();
#ifdef FASTCTC_HAVE_AVX512
    if (limit >= Level::avx512 && cpu_has(Level::avx512)) return kernels_avx512;
#endif
#ifdef FASTCTC_HAVE_AVX2
    if (limit >= Level::avx2 && cpu_has(Level::avx2)) return kernels_avx2;
#endif
    (void)limit;
    return kernels_baseline;
}

}  // namespace

const KernelTable &selected_kernels() {
    static const KernelTable &kernels = choose();  // thread-safe initialisation
    return kernels;
}

const KernelTable &kernels_for(bool long_exponential_rows) {
#if defined(FASTCTC_HAVE_AVX512) && defined(FASTCTC_HAVE_AVX2)
    if (!long_exponential_rows && !level_forced() && &selected_kernels() == &kernels_avx512) return kernels_avx2;
#endif
    (void)long_exponential_rows;
    return selected_kernels();
}

const KernelTable *eight_lane_kernels() {
    const KernelTable &selected = selected_kernels();
    if (!selected.eight_lane_vectors) return nullptr;
#if defined(FASTCTC_HAVE_AVX512)
    static const bool full_speed = runs_512_bits_at_full_speed();
    if (!full_speed && !level_forced()) return nullptr;
#endif
    return &selected;
}

}  // namespace fastctc

extern "C" const char *fastctc_simd_level(void) { return fastctc::selected_kernels().level; }
