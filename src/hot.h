/* hot.h (internal): TMLP_HOT marks a loop that runs over every weight or activation of every
 * training step. Where GCC supports function multiversioning it is built three times (AVX-512,
 * AVX2, baseline x86-64) and the widest the CPU has is chosen once, when the library loads;
 * elsewhere, and under the sanitizers (whose runtimes do not support the ifunc resolver), it is
 * a plain function. Each version does the same IEEE operations in the same order per element,
 * so the choice changes speed, never results. */
#ifndef TMLP_HOT_H
#define TMLP_HOT_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define TMLP_HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TMLP_HOT
#endif

#endif
