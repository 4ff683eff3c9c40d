/*===- flashmlir-c/Compiler.h - the compiler's C API ------------*- C -*-===*\
|*                                                                          *|
|* What libflashmlir_jit.so exports, and all it exports: compile an MLIR    *|
|* module holding attn.attention functions to PTX plus launch metadata.     *|
|* A C ABI so that the library can be self-contained (LLVM/MLIR linked in   *|
|* statically, symbols hidden) and the Python extension that binds it       *|
|* builds in seconds with any compiler and CPython, without MLIR headers.   *|
|*                                                                          *|
\*===----------------------------------------------------------------------===*/

#ifndef FLASHMLIR_C_COMPILER_H
#define FLASHMLIR_C_COMPILER_H

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this interface; bumped on any incompatible change. */
#define FLASHMLIR_C_API_VERSION 1

int flashmlirApiVersion(void);

/* Identifies the compiler build (flashmlir version, git commit, LLVM
 * version); part of every JIT-cache key. Static storage, never freed. */
const char *flashmlirBuildId(void);

/* Compiles `source` (MLIR text: func.func bodies with attn.attention on
 * memrefs; B, S and H may be dynamic on the Hopper path) with `options`, a
 * JSON object whose keys are all optional; an unknown key or a value of the
 * wrong type or range is an error (a misspelt option is never ignored):
 *   "kernel":     "hopper" (default, warp-specialized wgmma/TMA) | "simt"
 *   "chip":       "sm_90a" (default; the only chip of the Hopper kernel); the
 *                 SIMT kernel also takes sm_80, sm_86, sm_87, sm_89, sm_90,
 *                 sm_100(a), sm_120(a): each with the PTX ISA version it needs
 *   "opt_level":  0..3 (default 3)
 *   "block_m", "block_n", "stages": integers, 0 = heuristic (default)
 *   "ping_pong":  bool (default true)
 *   "pv_schedule": "auto" (default) | "serial" | "deferred" | "overlap":
 *                 when each KV block's P·V is issued (see attn-plan-hopper)
 *   "persistent_ctas": integer, CTAs of the persistent kernel where the
 *                 plan uses one (default 132, the SM count of an H100/H200;
 *                 0 = one CTA per tile)
 *   "schedule":   "auto" (default) | "tiles" (one CTA per tile) |
 *                 "persistent" (persistence wherever the tile loops apply)
 *   "epilogue":   "auto" (default) | "direct" (stores from registers) |
 *                 "tma" (O through its own shared buffer, TMA stores) |
 *                 "tma_in_q" (O staged in Q's buffer)
 *   "ctas_per_sm": 1..4 (default 1): resident CTAs per SM the plan budgets
 *                 registers and shared memory for
 *   "stages_ir":  bool (default false): also return each stage's MLIR
 * A key given twice and JSON nested deeper than 256 levels are errors too.
 * "test_crash" ("fatal_error" | "abort")
 * is dev-only: it fails on purpose inside the compile, to test that an LLVM
 * fatal error or a crash signal in a compile becomes this call's error (a
 * backstop: llvm::CrashRecoveryContext) instead of ending the caller.
 * On success returns 0 and sets *result to a JSON object
 *   {"ptx": "...", "chip": ..., "kernels": [...], "stages": [{"name", "ir"}]}
 * (kernels as attn-compile --json writes them: name, arguments, grid, block,
 * dynamic_shared_memory, tensor_maps, tiles, and the signature: each
 * function argument's type, element, shape and roles). On failure returns
 * non-zero and sets *result to the error text (MLIR diagnostics included).
 * Either way
 * *result is heap memory the caller releases with flashmlirFree. Thread-safe:
 * every call compiles in its own MLIRContext. */
int flashmlirCompile(const char *source, const char *options, char **result);

void flashmlirFree(char *text);

#ifdef __cplusplus
}
#endif

#endif /* FLASHMLIR_C_COMPILER_H */
