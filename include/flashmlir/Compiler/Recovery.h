//===- Recovery.h - fatal errors inside a compile become errors -*- C++ -*-===//
//
// LLVM is built without exceptions, so a fatal error deep in code generation
// (report_fatal_error: "Cannot select: intrinsic ...") or a crash ends the
// process. The compile entry points that a long-lived caller uses (the C API
// behind flashmlir._compiler, the CPU path's cpu_compile, attn-compile) run
// their work under runRecoverably, so that such a failure becomes an error.
//
// A backstop, not a way to accept bad input: every input the compiler can
// tell is wrong is refused before code generation with a diagnostic. Work
// abandoned by a recovered failure is leaked.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_COMPILER_RECOVERY_H
#define FLASHMLIR_COMPILER_RECOVERY_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>

namespace flashmlir {

/// Runs `work` on the calling thread. An LLVM fatal error or a crash signal
/// (SIGSEGV, SIGABRT, ...) inside it returns an error
///   "<what>: LLVM ERROR: <reason>" or "<what>: crashed (signal N)"
/// instead of ending the process; otherwise returns what `work` returned.
/// `work` must not spawn threads that could fail (those are not covered):
/// compile with MLIRContext multithreading off.
llvm::Error runRecoverably(llvm::StringRef what,
                           llvm::function_ref<llvm::Error()> work);

/// The same for work that returns a value.
template <typename T>
llvm::Expected<T> runRecoverably(llvm::StringRef what,
                                 llvm::function_ref<llvm::Expected<T>()> work) {
  std::optional<llvm::Expected<T>> result;
  if (llvm::Error failure = runRecoverably(what, [&]() -> llvm::Error {
        result.emplace(work());
        return llvm::Error::success();
      }))
    return std::move(failure);
  return std::move(*result);
}

} // namespace flashmlir

#endif // FLASHMLIR_COMPILER_RECOVERY_H
