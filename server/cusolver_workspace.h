// The size of a cuSOLVER workspace that its function does not take as an
// argument (client/libs/cusolver.def): cusolverDn?getrf's is what
// cusolverDn?getrf_bufferSize answers for the same handle and shape, so the
// worker asks the real library that question before it checks the range
// [Workspace, Workspace + that many elements) against the session's memory.
// Included by server/library_registry.cc ahead of the generated table,
// whose size expressions call it.
#pragma once

#include <cstdint>

#include "server/library_call.h"

namespace rcuda::library {

// Larger than any allocation: a workspace range of this many elements is
// refused (DeviceRange), which is what a query that fails must lead to.
inline constexpr __int128 kNoSuchWorkspace = static_cast<__int128>(1) << 100;

// Elements of the workspace that `query` (a cusolverDn?getrf_bufferSize:
// handle, m, n, A, lda, int* Lwork) says the factorization of this shape
// needs; kNoSuchWorkspace when the library cannot say. The shape's values
// were checked to fit an int when they were decoded.
inline __int128 BufferSizeOf(LibraryCallContext& c, const char* query, void* handle, __int128 m, __int128 n,
                             int64_t a, __int128 lda) {
  using Query = int (*)(void*, int, int, void*, int, int*);
  auto fn = reinterpret_cast<Query>(c.Resolve(query));
  int lwork = -1;
  if (fn == nullptr) return kNoSuchWorkspace;
  if (fn(handle, static_cast<int>(m), static_cast<int>(n), reinterpret_cast<void*>(a), static_cast<int>(lda),
         &lwork) != 0 ||
      lwork < 0) {
    return kNoSuchWorkspace;
  }
  return lwork;
}

}  // namespace rcuda::library
