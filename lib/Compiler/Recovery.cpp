//===- Recovery.cpp - fatal errors inside a compile become errors ---------===//
//
// llvm::CrashRecoveryContext turns a crash signal on the recovering thread
// into a return from RunSafely. report_fatal_error would still print and
// abort() (or exit), so a fatal-error handler, installed once, hands the
// reason to the recovering thread and leaves through the recovery context;
// on a thread that is not recovering it does what LLVM does without one.
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Compiler/Recovery.h"

#include "llvm/Support/CrashRecoveryContext.h"
#include "llvm/Support/ErrorHandling.h"

#include <mutex>
#include <optional>
#include <string>
#include <unistd.h>

using namespace llvm;

namespace {
/// Where the fatal error's reason goes while this thread is recovering.
thread_local std::string *fatalReason = nullptr;

void onFatalError(void *, const char *reason, bool) {
  if (CrashRecoveryContext *context = CrashRecoveryContext::GetCurrent()) {
    if (fatalReason) {
      *fatalReason = reason;
    } else {
      // Recovering, but in another copy of this file sharing LLVM (a build
      // whose Python extensions both link libLLVM.so): its reason slot is
      // not ours, so the reason goes to stderr.
      std::string text = std::string("LLVM ERROR: ") + reason + "\n";
      ssize_t written = ::write(2, text.data(), text.size());
      (void)written;
    }
    context->HandleExit(/*RetCode=*/1); // Does not return.
  }
  // Not recovering: LLVM's own behaviour (it aborts or exits once the
  // handler returns).
  std::string text = std::string("LLVM ERROR: ") + reason + "\n";
  ssize_t written = ::write(2, text.data(), text.size());
  (void)written;
}

void enableRecovery() {
  static std::once_flag once;
  std::call_once(once, [] {
    CrashRecoveryContext::Enable();
    install_fatal_error_handler(onFatalError);
  });
}
} // namespace

Error flashmlir::runRecoverably(StringRef what,
                                function_ref<Error()> work) {
  enableRecovery();
  std::string reason;
  std::string *outer = fatalReason;
  fatalReason = &reason;
  std::optional<Error> result;
  CrashRecoveryContext context;
  bool completed = context.RunSafely([&] { result.emplace(work()); });
  fatalReason = outer;
  if (completed)
    return std::move(*result);
  if (result)
    consumeError(std::move(*result));
  std::string message = what.str() + ": ";
  if (!reason.empty())
    message += "LLVM ERROR: " + reason;
  else if (context.RetCode > 128)
    message += "crashed (signal " + std::to_string(context.RetCode - 128) + ")";
  else
    message += "LLVM fatal error (exit code " + std::to_string(context.RetCode) +
               "; its message went to stderr)";
  return createStringError(inconvertibleErrorCode(), message);
}
