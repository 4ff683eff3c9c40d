//===- KernelOptions.cpp - the kernel options, defined once ---------------===//
//
// KernelOptions.def as data: rows, checks, JSON. The allowed values of the
// options that choose an attn dialect enum (pv_schedule, epilogue) are that
// enum's cases (AttnAttrs.td) and "auto".
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Compiler/KernelOptions.h"

#include "attn/Attn.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/JSON.h"

#include <optional>

using namespace llvm;
using namespace flashmlir;

namespace {
template <typename T>
KernelOptionInfo::Type typeOf();
template <>
KernelOptionInfo::Type typeOf<int64_t>() {
  return KernelOptionInfo::Type::Int;
}
template <>
KernelOptionInfo::Type typeOf<bool>() {
  return KernelOptionInfo::Type::Bool;
}
template <>
KernelOptionInfo::Type typeOf<std::string>() {
  return KernelOptionInfo::Type::String;
}

void setDefault(KernelOptionInfo &info, int64_t value) {
  info.intDefault = value;
}
void setDefault(KernelOptionInfo &info, bool value) {
  info.boolDefault = value;
}
void setDefault(KernelOptionInfo &info, std::string value) {
  info.stringDefault = std::move(value);
}

std::vector<KernelOptionInfo> buildTable() {
  std::vector<KernelOptionInfo> table;
#define FLASHMLIR_VALUES(...) std::vector<std::string>({__VA_ARGS__})
#define FLASHMLIR_ANY_VALUE std::vector<std::string>{}
#define FLASHMLIR_AUTO_OR_ENUM(E)                                              \
  [] {                                                                         \
    std::vector<std::string> values{"auto"};                                   \
    for (uint32_t i = 0; i <= ::mlir::attn::getMaxEnumValFor##E(); ++i)        \
      if (std::optional<::mlir::attn::E> e = ::mlir::attn::symbolize##E(i))    \
        values.push_back(::mlir::attn::stringify##E(*e).str());                \
    return values;                                                             \
  }()
#define FLASHMLIR_ROW(GROUP, FIELD, FLAG, KEY, TYPE, DEFAULT, MIN, MAX,        \
                      VALUES, DESC)                                            \
  {                                                                            \
    KernelOptionInfo info;                                                     \
    info.field = #FIELD;                                                       \
    info.flag = FLAG;                                                          \
    info.key = KEY;                                                            \
    info.type = typeOf<TYPE>();                                                \
    info.group = KernelOptionInfo::Group::GROUP;                               \
    setDefault(info, TYPE(DEFAULT));                                           \
    info.min = MIN;                                                            \
    info.max = MAX;                                                            \
    info.values = VALUES;                                                      \
    info.description = DESC;                                                   \
    table.push_back(std::move(info));                                          \
  }
#define FLASHMLIR_PLAN_OPTION(...) FLASHMLIR_ROW(Plan, __VA_ARGS__)
#define FLASHMLIR_TILE_OPTION(...) FLASHMLIR_ROW(Tile, __VA_ARGS__)
#define FLASHMLIR_CODEGEN_OPTION(...) FLASHMLIR_ROW(Codegen, __VA_ARGS__)
#define FLASHMLIR_DRIVER_OPTION(...) FLASHMLIR_ROW(Driver, __VA_ARGS__)
#include "flashmlir/Compiler/KernelOptions.def"
#undef FLASHMLIR_ROW
#undef FLASHMLIR_VALUES
#undef FLASHMLIR_ANY_VALUE
#undef FLASHMLIR_AUTO_OR_ENUM
  return table;
}

bool unbounded(const KernelOptionInfo &option) {
  return option.max == INT64_MAX;
}

/// `option 'key'` or `flag`.
std::string optionName(const KernelOptionInfo &option,
                       OptionSpelling spelling) {
  return spelling == OptionSpelling::Key ? "option '" + option.key.str() + "'"
                                         : option.flag.str();
}

/// What an int option takes, e.g. "a non-negative integer" or "1, 2, 3 or 4"
/// (Key), ">= 0" or "in [1, 4]" (Flag).
std::string rangeText(const KernelOptionInfo &option,
                      OptionSpelling spelling) {
  std::string lo = std::to_string(option.min), hi = std::to_string(option.max);
  if (spelling == OptionSpelling::Flag)
    return unbounded(option) ? ">= " + lo : "in [" + lo + ", " + hi + "]";
  if (unbounded(option))
    return option.min == 0 ? "a non-negative integer" : "an integer >= " + lo;
  if (option.max - option.min > 4)
    return "an integer in [" + lo + ", " + hi + "]";
  std::string text;
  for (int64_t v = option.min; v <= option.max; ++v)
    text += (v == option.min ? "" : v == option.max ? " or " : ", ") +
            std::to_string(v);
  return text;
}

/// A string option's values: `"a", "b" or "c"` (Key) or `a, b or c` (Flag).
std::string valuesText(const KernelOptionInfo &option,
                       OptionSpelling spelling) {
  std::string text;
  for (size_t i = 0, e = option.values.size(); i < e; ++i) {
    text += i == 0 ? "" : i + 1 == e ? " or " : ", ";
    text += spelling == OptionSpelling::Key ? "\"" + option.values[i] + "\""
                                            : option.values[i];
  }
  return text;
}

Error fail(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message);
}

Error readJson(const KernelOptionInfo &option, const json::Value &value,
               int64_t &field) {
  std::optional<int64_t> i = value.getAsInteger();
  if (!i)
    return fail(optionName(option, OptionSpelling::Key) + " must be " +
                rangeText(option, OptionSpelling::Key));
  if (Error err = checkKernelOption(option, *i, OptionSpelling::Key))
    return err;
  field = *i;
  return Error::success();
}

Error readJson(const KernelOptionInfo &option, const json::Value &value,
               bool &field) {
  std::optional<bool> b = value.getAsBoolean();
  if (!b)
    return fail(optionName(option, OptionSpelling::Key) + " must be a boolean");
  field = *b;
  return Error::success();
}

Error readJson(const KernelOptionInfo &option, const json::Value &value,
               std::string &field) {
  std::optional<StringRef> s = value.getAsString();
  if (!s)
    return fail(optionName(option, OptionSpelling::Key) + " must be a string");
  if (Error err = checkKernelOption(option, *s, OptionSpelling::Key))
    return err;
  field = s->str();
  return Error::success();
}
} // namespace

ArrayRef<KernelOptionInfo> flashmlir::kernelOptionTable() {
  static const std::vector<KernelOptionInfo> table = buildTable();
  return table;
}

const KernelOptionInfo *flashmlir::lookupKernelOptionFlag(StringRef flag) {
  for (const KernelOptionInfo &option : kernelOptionTable())
    if (option.flag == flag)
      return &option;
  return nullptr;
}

const KernelOptionInfo *flashmlir::lookupKernelOptionKey(StringRef key) {
  for (const KernelOptionInfo &option : kernelOptionTable())
    if (option.key == key)
      return &option;
  return nullptr;
}

Error flashmlir::checkKernelOption(const KernelOptionInfo &option,
                                   int64_t value, OptionSpelling spelling) {
  if (value >= option.min && value <= option.max)
    return Error::success();
  return fail(optionName(option, spelling) + " must be " +
              rangeText(option, spelling) + ", got " + std::to_string(value));
}

Error flashmlir::checkKernelOption(const KernelOptionInfo &option,
                                   StringRef value, OptionSpelling spelling) {
  if (option.values.empty() || is_contained(option.values, value))
    return Error::success();
  std::string got = spelling == OptionSpelling::Key
                        ? "\"" + value.str() + "\""
                        : "'" + value.str() + "'";
  return fail(optionName(option, spelling) + " must be " +
              valuesText(option, spelling) + ", got " + got);
}

Error flashmlir::checkKernelOptions(const KernelOptions &options,
                                    OptionSpelling spelling,
                                    ArrayRef<KernelOptionInfo::Group> groups) {
#define FLASHMLIR_KERNEL_OPTION(FIELD, FLAG, KEY, TYPE, DEFAULT, MIN, MAX,     \
                                VALUES, DESC)                                  \
  {                                                                            \
    const KernelOptionInfo &option = *lookupKernelOptionKey(KEY);              \
    if (groups.empty() || is_contained(groups, option.group))                  \
      if (Error err = checkKernelOption(option, options.FIELD, spelling))      \
        return err;                                                            \
  }
#include "flashmlir/Compiler/KernelOptions.def"
  return Error::success();
}

Error flashmlir::setKernelOption(KernelOptions &options,
                                 const KernelOptionInfo &option,
                                 const json::Value &value) {
#define FLASHMLIR_KERNEL_OPTION(FIELD, FLAG, KEY, TYPE, DEFAULT, MIN, MAX,     \
                                VALUES, DESC)                                  \
  if (option.key == KEY)                                                       \
    return readJson(option, value, options.FIELD);
#include "flashmlir/Compiler/KernelOptions.def"
  return fail("unknown option '" + option.key + "'");
}

std::string flashmlir::kernelOptionsJson() {
  static constexpr StringLiteral groups[] = {"plan", "tile", "codegen",
                                             "driver"};
  json::Array rows;
  for (const KernelOptionInfo &option : kernelOptionTable()) {
    json::Object row{{"name", option.key},
                     {"flag", option.flag},
                     {"field", option.field},
                     {"group", groups[static_cast<int>(option.group)]},
                     {"description", option.description}};
    switch (option.type) {
    case KernelOptionInfo::Type::Int:
      row["type"] = "int";
      row["default"] = option.intDefault;
      row["min"] = option.min;
      row["max"] = unbounded(option) ? json::Value(nullptr)
                                     : json::Value(option.max);
      break;
    case KernelOptionInfo::Type::Bool:
      row["type"] = "bool";
      row["default"] = option.boolDefault;
      break;
    case KernelOptionInfo::Type::String:
      row["type"] = "string";
      row["default"] = option.stringDefault;
      row["values"] = json::Array(option.values);
      break;
    }
    rows.push_back(std::move(row));
  }
  std::string text;
  raw_string_ostream os(text);
  os << json::Value(json::Object{{"options", std::move(rows)}});
  return text;
}
