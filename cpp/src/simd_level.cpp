#include "fastctc/ctc.h"

// The kernels are compiled for the baseline instruction set of the target
// (x86-64: SSE2); there is no runtime dispatch to wider vectors yet.
extern "C" const char *fastctc_simd_level(void) { return "baseline"; }
