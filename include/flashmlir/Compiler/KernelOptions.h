//===- KernelOptions.h - the kernel options, defined once -------*- C++ -*-===//
//
// The C++ API over KernelOptions.def, the one table of the kernel's options
// (names, types, defaults, allowed values): the options as a struct, the
// rows as data, their checks, and the table as JSON (what the C API's
// flashmlirKernelOptions returns and Python's AttentionSpec validates with).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_COMPILER_KERNELOPTIONS_H
#define FLASHMLIR_COMPILER_KERNELOPTIONS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llvm::json {
class Value;
} // namespace llvm::json

namespace flashmlir {

/// Every kernel option, at its default (KernelOptions.def).
struct KernelOptions {
#define FLASHMLIR_KERNEL_OPTION(FIELD, FLAG, KEY, TYPE, DEFAULT, MIN, MAX,     \
                                VALUES, DESC)                                  \
  TYPE FIELD = DEFAULT;
#include "flashmlir/Compiler/KernelOptions.def"
};

/// One row of KernelOptions.def.
struct KernelOptionInfo {
  enum class Type { Int, Bool, String };
  enum class Group { Plan, Tile, Codegen, Driver };
  llvm::StringRef field, flag, key;
  Type type;
  Group group;
  /// The default: the one of `type`.
  int64_t intDefault = 0;
  bool boolDefault = false;
  std::string stringDefault;
  /// An int option's range (max INT64_MAX: unbounded).
  int64_t min = 0, max = 0;
  /// A string option's allowed values (empty: any, checked elsewhere).
  std::vector<std::string> values;
  llvm::StringRef description;
};

/// The rows of KernelOptions.def, in its order.
llvm::ArrayRef<KernelOptionInfo> kernelOptionTable();

/// The row whose flag (kebab-case) or key (snake_case) is `name`, or null.
const KernelOptionInfo *lookupKernelOptionFlag(llvm::StringRef flag);
const KernelOptionInfo *lookupKernelOptionKey(llvm::StringRef key);

/// How a diagnostic names an option and its values:
///   Flag: `pv-schedule must be auto, serial, deferred or overlap, got 'x'`
///         (pass and pipeline options, attn-compile prefixes "--");
///   Key:  `option 'pv_schedule' must be "auto", "serial", "deferred" or
///         "overlap", got "x"` (the C API's JSON).
enum class OptionSpelling { Flag, Key };

/// Checks `value` against the option's range or allowed values; the error
/// names the option and what it takes.
llvm::Error checkKernelOption(const KernelOptionInfo &option, int64_t value,
                              OptionSpelling spelling);
llvm::Error checkKernelOption(const KernelOptionInfo &option,
                              llvm::StringRef value, OptionSpelling spelling);
inline llvm::Error checkKernelOption(const KernelOptionInfo &, bool,
                                     OptionSpelling) {
  return llvm::Error::success();
}

/// Checks every field of `options` of the given groups (all by default): the
/// first bad one's error.
llvm::Error
checkKernelOptions(const KernelOptions &options, OptionSpelling spelling,
                   llvm::ArrayRef<KernelOptionInfo::Group> groups = {});

/// Sets the field of `options` that `option` describes from a JSON value:
/// errors (Key spelling) name a value of the wrong type or out of range.
llvm::Error setKernelOption(KernelOptions &options,
                            const KernelOptionInfo &option,
                            const llvm::json::Value &value);

/// The table as JSON text: {"options": [{"name" (the key), "flag", "field",
/// "group", "type" ("int", "bool" or "string"), "default", "min" and "max"
/// (ints; max null when unbounded), "values" (strings; [] = any),
/// "description"}]}.
std::string kernelOptionsJson();

} // namespace flashmlir

#endif // FLASHMLIR_COMPILER_KERNELOPTIONS_H
