//===- InputLimits.cpp - limits on hostile input text ---------------------===//

#include "flashmlir/Compiler/InputLimits.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

using namespace llvm;

/// At a string literal or a // comment starting at text[i]: moves i to its
/// last character (the closing quote, the end of the line, or the end of the
/// text) and returns true. A literal has backslash escapes; an unterminated
/// one ends the text (the parser refuses it anyway).
static bool skipLiteralOrComment(StringRef text, size_t &i) {
  size_t e = text.size();
  if (text[i] == '"') {
    for (++i; i < e && text[i] != '"'; ++i)
      if (text[i] == '\\')
        ++i;
    return true;
  }
  if (text[i] == '/' && i + 1 < e && text[i + 1] == '/') {
    i = std::min(text.find('\n', i), e);
    return true;
  }
  return false;
}

unsigned flashmlir::nestingDepth(StringRef text) {
  // Open brackets by kind: ( [ { <.
  std::array<unsigned, 4> open{};
  unsigned deepest = 0;
  auto kindOf = [](char c, bool &opens) -> int {
    opens = c == '(' || c == '[' || c == '{' || c == '<';
    switch (c) {
    case '(':
    case ')':
      return 0;
    case '[':
    case ']':
      return 1;
    case '{':
    case '}':
      return 2;
    case '<':
    case '>':
      return 3;
    }
    return -1;
  };
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    char c = text[i];
    if (skipLiteralOrComment(text, i))
      continue;
    bool opens;
    int kind = kindOf(c, opens);
    if (kind < 0)
      continue;
    if (opens) {
      ++open[kind];
      unsigned depth = open[0] + open[1] + open[2] + open[3];
      if (depth > deepest)
        deepest = depth;
    } else if (open[kind]) {
      --open[kind];
    }
  }
  return deepest;
}

Error flashmlir::checkNestingDepth(StringRef text, StringRef what) {
  unsigned depth = nestingDepth(text);
  if (depth <= kMaxNestingDepth)
    return Error::success();
  return createStringError(inconvertibleErrorCode(),
                           what + " nests " + std::to_string(depth) +
                               " levels deep; at most " +
                               std::to_string(kMaxNestingDepth) +
                               " are accepted");
}

/// The offset of `array<index` (whitespace allowed around '<', `index` a
/// whole word) outside string literals and // comments, or npos.
static size_t findIndexDenseArray(StringRef text) {
  auto isIdent = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
           c == '.';
  };
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    if (skipLiteralOrComment(text, i))
      continue;
    if (!text.substr(i).starts_with("array") || (i > 0 && isIdent(text[i - 1])))
      continue;
    StringRef rest = text.substr(i + 5).ltrim();
    if (!rest.consume_front("<"))
      continue;
    rest = rest.ltrim();
    if (rest.consume_front("index") && (rest.empty() || !isIdent(rest.front())))
      return i;
  }
  return StringRef::npos;
}

Error flashmlir::checkMlirSource(StringRef text, StringRef what) {
  if (Error err = checkNestingDepth(text, what))
    return err;
  size_t at = findIndexDenseArray(text);
  if (at == StringRef::npos)
    return Error::success();
  size_t line = text.take_front(at).count('\n') + 1;
  return createStringError(inconvertibleErrorCode(),
                           what + ":" + std::to_string(line) +
                               ": a dense array of 'index' elements "
                               "(array<index: ...>) is not a valid attribute "
                               "(and crashes MLIR's parser)");
}
