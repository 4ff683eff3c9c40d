//===- AttnBufferization.h - bufferization of the attn ops -----*- C++ -*-===//
//
// One-shot bufferization models of attn.attention and the L2 tile ops
// (AttnBufferization.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_ATTNBUFFERIZATION_H
#define ATTN_ATTNBUFFERIZATION_H

namespace mlir {
class DialectRegistry;
namespace attn {
/// Attaches BufferizableOpInterface to the attn ops that take tensors.
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);
} // namespace attn
} // namespace mlir

#endif // ATTN_ATTNBUFFERIZATION_H
