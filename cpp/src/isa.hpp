// The instruction-set level a kernel translation unit is compiled for.
//
// kernels.cpp is compiled once per level (CMakeLists.txt passes -DFASTCTC_ISA=
// baseline, avx2 or avx512 with the matching compiler flags), and every kernel
// header puts its code in namespace fastctc::FASTCTC_ISA.  Each level thus gets
// its own copy of every inline function, so the linker can never merge an
// AVX2-compiled copy into code that runs on a CPU without AVX2.  Kernel code
// calls no std algorithm templates for the same reason (those would be shared
// weak symbols).
#pragma once

#ifndef FASTCTC_ISA
#define FASTCTC_ISA baseline
#endif

// For the small math functions called inside vectorised loops: a loop only
// vectorises if every call in it is inlined.
#if defined(__GNUC__)
#define FASTCTC_ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define FASTCTC_ALWAYS_INLINE __forceinline
#else
#define FASTCTC_ALWAYS_INLINE inline
#endif

// The same for a lambda, written after its parameter list.
#if defined(__GNUC__)
#define FASTCTC_INLINE_LAMBDA __attribute__((always_inline))
#else
#define FASTCTC_INLINE_LAMBDA
#endif

// Kept out of line: for a function whose inlining into a caller makes the
// caller's other paths slower (its registers spilled for the inlined one).
#if defined(__GNUC__)
#define FASTCTC_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define FASTCTC_NOINLINE __declspec(noinline)
#else
#define FASTCTC_NOINLINE
#endif
