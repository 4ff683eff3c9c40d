//===- TensorBufferization.h - the tensor form onto buffers -----*- C++ -*-===//
//
// attn.attention and attn.attention_grad may be written on tensors (values
// in, values out, as a model's graph is); the tiling passes need buffers.
// Every pipeline that starts at L0 (attn-to-cpu, attn-to-ptx, the SIMT one)
// begins with one-shot bufferization of the whole module; on memref-level
// input it changes nothing.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_COMPILER_TENSORBUFFERIZATION_H
#define FLASHMLIR_COMPILER_TENSORBUFFERIZATION_H

namespace mlir {
class DialectRegistry;
class OpPassManager;
} // namespace mlir

namespace flashmlir {

/// The bufferization interfaces of every op the tensor form may hold (attn,
/// func, arith, tensor, scf, bufferization).
void registerTensorBufferizationInterfaces(mlir::DialectRegistry &registry);

/// One-shot bufferization of the module, function boundaries included:
/// tensor arguments become identity-layout memrefs, results fresh buffers.
void addTensorBufferization(mlir::OpPassManager &pm);

} // namespace flashmlir

#endif // FLASHMLIR_COMPILER_TENSORBUFFERIZATION_H
