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

/* The kernel options flashmlirCompile takes, as a JSON object (static
 * storage, never freed): {"options": [{"name", "flag", "field", "group",
 * "type" ("int" | "bool" | "string"), "default", "min" and "max" (ints; max
 * null when unbounded), "values" (strings: the allowed values, [] = any),
 * "description"}]}. Their one definition is
 * include/flashmlir/Compiler/KernelOptions.def (attn-opt's pass and pipeline
 * options and attn-compile's flags are its "flag" spellings); Python's
 * AttentionSpec validates with it. */
const char *flashmlirKernelOptions(void);

/* Compiles `source` (MLIR text: func.func bodies with attn.attention on
 * memrefs; B, S and H may be dynamic on the Hopper path) with `options`, a
 * JSON object whose keys are all optional; an unknown key or a value of the
 * wrong type or range is an error (a misspelt option is never ignored):
 *   the kernel options: each "name" of flashmlirKernelOptions() (kernel,
 *                 chip, block_m, pv_schedule, ...), with a value of its type
 *                 and range, or one of its "values"; "chip" is checked
 *                 against the chips the kernel is built for too ("sm_90a"
 *                 only for the Hopper kernel; the SIMT kernel takes sm_80
 *                 and later)
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
