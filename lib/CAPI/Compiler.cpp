//===- Compiler.cpp - the C API of libflashmlir_jit.so --------------------===//
//
// A thin adapter: JSON options in, JSON result out, over the C++ compile API
// of lib/Compiler (GpuPipeline.h). No state is kept between calls.
//
//===----------------------------------------------------------------------===//

#include "flashmlir-c/Compiler.h"
#include "flashmlir/Compiler/GpuPipeline.h"
#include "flashmlir/Compiler/InputLimits.h"
#include "flashmlir/Compiler/KernelOptions.h"
#include "flashmlir/Compiler/Recovery.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "BuildId.h" // FLASHMLIR_GIT_COMMIT, refreshed at every build

#define FLASHMLIR_STRINGIFY_(x) #x
#define FLASHMLIR_STRINGIFY(x) FLASHMLIR_STRINGIFY_(x)

using namespace llvm;

namespace {
char *copyToHeap(StringRef text) {
  char *out = static_cast<char *>(std::malloc(text.size() + 1));
  if (!out)
    return nullptr;
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return out;
}

/// The options of flashmlirCompile, read strictly: unknown keys and values
/// of the wrong type are errors (a misspelt option must not be ignored).
/// The kernel options are the keys of KernelOptions.def (their one
/// definition: types, defaults, allowed values); the others are this API's.
struct CompileOptions {
  flashmlir::KernelOptions kernel;
  bool stagesIr = false;
  /// Dev-only: "fatal_error" or "abort" fails on purpose inside the
  /// recovered compile (the test of the crash-recovery backstop).
  std::string testCrash;
};

/// The keys of the top-level JSON object `text` (already parsed as one), as
/// written: llvm::json keeps the last of duplicate keys, silently.
std::vector<std::string> topLevelKeys(StringRef text) {
  std::vector<std::string> keys;
  int depth = 0;
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    char c = text[i];
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == '"') {
      size_t start = i;
      for (++i; i < e && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
      StringRef rest = text.drop_front(std::min(i + 1, e)).ltrim();
      if (depth == 1 && rest.starts_with(":")) {
        Expected<json::Value> key = json::parse(text.slice(start, i + 1));
        if (key && key->getAsString())
          keys.push_back(key->getAsString()->str());
        else
          consumeError(key.takeError());
      }
    }
  }
  return keys;
}

Expected<CompileOptions> parseOptions(StringRef text) {
  CompileOptions opts;
  if (text.trim().empty())
    return opts;
  if (Error err = flashmlir::checkNestingDepth(text, "the options JSON"))
    return std::move(err);
  Expected<json::Value> parsed = json::parse(text);
  if (!parsed)
    return createStringError(inconvertibleErrorCode(),
                             "options are not valid JSON: " +
                                 toString(parsed.takeError()));
  const json::Object *obj = parsed->getAsObject();
  if (!obj)
    return createStringError(inconvertibleErrorCode(),
                             "options must be a JSON object");
  auto bad = [](StringRef key, StringRef want) {
    return createStringError(inconvertibleErrorCode(),
                             "option '" + key + "' must be " + want);
  };
  std::vector<std::string> keys = topLevelKeys(text);
  llvm::sort(keys);
  for (size_t i = 1; i < keys.size(); ++i)
    if (keys[i] == keys[i - 1])
      return createStringError(inconvertibleErrorCode(),
                               "option '" + keys[i] + "' is given twice");
  for (const auto &[key, value] : *obj) {
    StringRef k = key;
    if (const flashmlir::KernelOptionInfo *option =
            flashmlir::lookupKernelOptionKey(k)) {
      if (Error err = flashmlir::setKernelOption(opts.kernel, *option, value))
        return std::move(err);
    } else if (k == "test_crash") {
      std::optional<StringRef> s = value.getAsString();
      if (!s)
        return bad(k, "a string");
      opts.testCrash = s->str();
    } else if (k == "stages_ir") {
      std::optional<bool> b = value.getAsBoolean();
      if (!b)
        return bad(k, "a boolean");
      opts.stagesIr = *b;
    } else {
      return createStringError(inconvertibleErrorCode(),
                               "unknown option '" + k + "'");
    }
  }
  if (!llvm::is_contained({"", "fatal_error", "abort"}, opts.testCrash))
    return bad("test_crash", "\"fatal_error\" or \"abort\" (dev-only)");
  if (Error err = flashmlir::checkChip(opts.kernel.chip,
                                       opts.kernel.kernel == "hopper"))
    return createStringError(inconvertibleErrorCode(),
                             "option 'chip': " + toString(std::move(err)));
  return opts;
}

Expected<std::string> compile(StringRef source, StringRef optionsText) {
  Expected<CompileOptions> opts = parseOptions(optionsText);
  if (!opts)
    return opts.takeError();
  if (opts->testCrash == "fatal_error")
    report_fatal_error("test_crash: a fatal error on purpose");
  if (opts->testCrash == "abort")
    std::abort();
  flashmlir::GpuCompileControl control;
  control.captureStages = opts->stagesIr;
  Expected<flashmlir::GpuCompileResult> result = [&] {
    if (opts->kernel.kernel == "simt") {
      flashmlir::AttnToPtxSimtOptions simt;
      simt.assign(opts->kernel);
      return flashmlir::compileAttentionToPtx(source, simt, control);
    }
    flashmlir::AttnToPtxOptions hopper;
    hopper.assign(opts->kernel);
    return flashmlir::compileAttentionToHopperPtx(source, hopper, control);
  }();
  if (!result)
    return result.takeError();

  Expected<json::Value> metadata =
      json::parse(flashmlir::formatLaunchMetadata(*result, opts->kernel.chip));
  if (!metadata)
    return metadata.takeError();
  json::Object out = std::move(*metadata->getAsObject());
  out["ptx"] = result->ptx;
  json::Array stages;
  for (const flashmlir::CompileStage &stage : result->stages)
    stages.push_back(json::Object{{"name", stage.name}, {"ir", stage.ir}});
  out["stages"] = std::move(stages);
  std::string text;
  raw_string_ostream os(text);
  os << json::Value(std::move(out));
  return text;
}
} // namespace

extern "C" {

int flashmlirApiVersion(void) { return FLASHMLIR_C_API_VERSION; }

const char *flashmlirBuildId(void) {
  return "flashmlir-" FLASHMLIR_GIT_COMMIT "+llvm-" LLVM_VERSION_STRING
         "+capi-" FLASHMLIR_STRINGIFY(FLASHMLIR_C_API_VERSION);
}

int flashmlirCompile(const char *source, const char *options, char **result) {
  if (!result)
    return 2;
  *result = nullptr;
  if (!source) {
    *result = copyToHeap("flashmlirCompile: source is null");
    return 2;
  }
  // The backstop: a fatal error or crash anywhere in the compile becomes
  // this call's error instead of ending the caller's process.
  Expected<std::string> text = flashmlir::runRecoverably<std::string>(
      "flashmlirCompile: the compiler failed",
      [&] { return compile(source, options ? options : ""); });
  if (!text) {
    *result = copyToHeap(toString(text.takeError()));
    return 1;
  }
  *result = copyToHeap(*text);
  return *result ? 0 : 3;
}

const char *flashmlirKernelOptions(void) {
  // Built once (thread-safe static), never freed.
  static const std::string json = flashmlir::kernelOptionsJson();
  return json.c_str();
}

void flashmlirFree(char *text) { std::free(text); }

} // extern "C"
