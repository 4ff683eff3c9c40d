//===- InputLimits.cpp - limits on hostile input text ---------------------===//

#include "flashmlir/Compiler/InputLimits.h"

#include <array>
#include <string>

using namespace llvm;

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
    if (c == '"') {
      // A string literal, with backslash escapes; an unterminated one ends
      // the text (the parser refuses it anyway).
      for (++i; i < e && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
      continue;
    }
    if (c == '/' && i + 1 < e && text[i + 1] == '/') {
      i = text.find('\n', i);
      if (i == StringRef::npos)
        break;
      continue;
    }
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
