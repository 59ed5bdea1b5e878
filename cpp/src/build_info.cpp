// Facts about this build that only the compiler and the loader know, for
// fastctc.show_config() and for C/C++ programs that check which library they
// run against.  FASTCTC_VERSION comes from CMake, which reads it from
// pyproject.toml, the one place the version is written.
#include "fastctc/ctc.h"

#ifdef _OPENMP
#include <omp.h>
#if !defined(_WIN32)
#include <dlfcn.h>
#endif
#endif

#define FASTCTC_STRINGIFY_(x) #x
#define FASTCTC_STRINGIFY(x) FASTCTC_STRINGIFY_(x)
#define FASTCTC_DOTTED(major, minor, patch) \
    FASTCTC_STRINGIFY(major) "." FASTCTC_STRINGIFY(minor) "." FASTCTC_STRINGIFY(patch)

extern "C" const char *fastctc_version(void) { return FASTCTC_VERSION; }

extern "C" const char *fastctc_compiler(void) {
    // Clang first: it also defines __GNUC__ (and Intel's icx is a Clang too).
#if defined(__clang__) && defined(__apple_build_version__)
    return "AppleClang " FASTCTC_DOTTED(__clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__clang__)
    return "Clang " FASTCTC_DOTTED(__clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
    return "GNU " FASTCTC_DOTTED(__GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#elif defined(_MSC_VER)
    return "MSVC " FASTCTC_STRINGIFY(_MSC_FULL_VER);
#else
    return "unknown";
#endif
}

extern "C" int fastctc_openmp_version(void) {
#ifdef _OPENMP
    return _OPENMP;
#else
    return 0;
#endif
}

extern "C" const char *fastctc_openmp_library(void) {
#if defined(_OPENMP) && !defined(_WIN32)
    // The loader resolved omp_get_max_threads for this library: the file that
    // defines it is the runtime in use (e.g. the libgomp a wheel vendors).
    Dl_info info;
    if (dladdr(reinterpret_cast<void *>(&omp_get_max_threads), &info) != 0 && info.dli_fname != nullptr) {
        return info.dli_fname;
    }
#endif
    return "";
}
