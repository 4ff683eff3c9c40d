//===- InputLimits.h - limits on hostile input text -------------*- C++ -*-===//
//
// MLIR's parser, its pass-pipeline parser and llvm::json::parse recurse once
// per nesting level: a few thousand nested regions, parentheses or brackets
// overflow the stack of the thread that parses them. Everything that takes
// text from a user (attn-opt, attn-compile, the C API, cpu_compile) checks
// its nesting first and refuses deeper text with a diagnostic.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_COMPILER_INPUTLIMITS_H
#define FLASHMLIR_COMPILER_INPUTLIMITS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace flashmlir {

/// The deepest nesting accepted: far above any IR or pipeline flashmlir
/// writes (under 20), far below what overflows an 8 MiB stack (~4,000).
inline constexpr unsigned kMaxNestingDepth = 256;

/// The deepest nesting of ( [ { < in `text` (MLIR, a pass pipeline or JSON),
/// outside string literals and // comments: each kind of bracket counted on
/// its own (a stray closer of one kind does not hide openers of another).
unsigned nestingDepth(llvm::StringRef text);

/// Fails with "<what> nests N levels deep; at most 256 are accepted" when
/// the nesting of `text` exceeds kMaxNestingDepth.
llvm::Error checkNestingDepth(llvm::StringRef text, llvm::StringRef what);

/// checkNestingDepth, then the inputs known to crash MLIR 22's own parser,
/// refused with a diagnostic: `array<index: ...>` (parseDenseArrayAttr asks
/// an index type for its bit width; upstream mlir-opt segfaults too). For
/// MLIR source text.
llvm::Error checkMlirSource(llvm::StringRef text, llvm::StringRef what);

} // namespace flashmlir

#endif // FLASHMLIR_COMPILER_INPUTLIMITS_H
