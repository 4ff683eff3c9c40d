//===- FakeLibcuda.h - the record of the scripted libcuda -------*- C++ -*-===//
//
// What FakeLibcuda.cpp was last called with, exported as `fakeCudaState` and
// read by CudaRuntimeTest.cpp through dlsym.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_TEST_UNIT_FAKELIBCUDA_H
#define FLASHMLIR_TEST_UNIT_FAKELIBCUDA_H

#include <cstdint>

struct FakeCudaState {
  int initCalls;
  int retainedContexts, releasedContexts;
  void *currentContext;
  int modulesLoaded, modulesUnloaded;
  unsigned jitOptionCount;
  int maxDynamicShared;
  // The last launch.
  bool launchedEx;
  unsigned grid[3], block[3], cluster[3], sharedMemBytes;
  int clusterAttributeId;
  unsigned numAttrs;
  void *stream;
  void **params;
  // The last tensor map.
  int tmapDataType;
  unsigned tmapRank;
  void *tmapAddress;
  std::uint64_t tmapDims[5], tmapStrides[4];
  std::uint32_t tmapBox[5], tmapElementStrides[5];
  int tmapInterleave, tmapSwizzle, tmapL2Promotion, tmapOobFill;
};

#endif // FLASHMLIR_TEST_UNIT_FAKELIBCUDA_H
