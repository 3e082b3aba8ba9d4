// The size of a cuSOLVER workspace that its function does not take as an
// argument (client/libs/cusolver.def): cusolverDn?getrf's is what
// cusolverDn?getrf_bufferSize answers for the same handle and shape, so the
// worker asks the real library that question before it checks the range
// [Workspace, Workspace + that many elements) against the session's memory.
// Included by server/library_registry.cc ahead of the generated table,
// whose size expressions call it, and the description's hooks header: the
// 64-bit API's check= hooks (XpotrfWorkspace, XgetrfWorkspace,
// XgeqrfWorkspace, XsyevdWorkspace) ask the real
// *_bufferSize for the call's shape and refuse workspaces smaller than it
// answers, device or host.
#pragma once

#include <cstddef>
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

// The handle class of cusolverDnParams_t: the description's first (and
// only) handle.new(CLASS), so class 1.
inline constexpr int kParamsClass = 1;

// 0 when the workspaces the call passes hold what `query` answers for its
// shape; the library's invalid-value status otherwise (also when it cannot
// answer). `ask` calls the query with the real handles and the two size_t*.
template <class Ask>
int CoversXWorkspace(LibraryCallContext& c, const char* name, int64_t handle, int64_t params, uint64_t device_bytes,
                     uint64_t host_bytes, const Ask& ask) {
  void* h = nullptr;
  void* p = nullptr;
  void* query = c.Resolve(name);
  if (query == nullptr || !c.RealHandle(handle, 0, &h) || !c.RealHandle(params, kParamsClass, &p))
    return c.invalid_value();
  size_t need_device = 0, need_host = 0;
  if (ask(query, h, p, &need_device, &need_host) != 0) return c.invalid_value();
  return device_bytes >= need_device && host_bytes >= need_host ? 0 : c.invalid_value();
}

inline int XpotrfWorkspace(LibraryCallContext& c, int64_t handle, int64_t params, int64_t uplo, int64_t n,
                           int64_t type_a, int64_t a, int64_t lda, int64_t compute, uint64_t device_bytes,
                           uint64_t host_bytes) {
  return CoversXWorkspace(c, "cusolverDnXpotrf_bufferSize", handle, params, device_bytes, host_bytes,
                          [&](void* query, void* h, void* p, size_t* device, size_t* host) {
                            using Query = int (*)(void*, void*, int, int64_t, int, const void*, int64_t, int, size_t*,
                                                  size_t*);
                            return reinterpret_cast<Query>(query)(h, p, static_cast<int>(uplo), n,
                                                                  static_cast<int>(type_a),
                                                                  reinterpret_cast<const void*>(a), lda,
                                                                  static_cast<int>(compute), device, host);
                          });
}

inline int XgetrfWorkspace(LibraryCallContext& c, int64_t handle, int64_t params, int64_t m, int64_t n,
                           int64_t type_a, int64_t a, int64_t lda, int64_t compute, uint64_t device_bytes,
                           uint64_t host_bytes) {
  return CoversXWorkspace(c, "cusolverDnXgetrf_bufferSize", handle, params, device_bytes, host_bytes,
                          [&](void* query, void* h, void* p, size_t* device, size_t* host) {
                            using Query = int (*)(void*, void*, int64_t, int64_t, int, const void*, int64_t, int,
                                                  size_t*, size_t*);
                            return reinterpret_cast<Query>(query)(h, p, m, n, static_cast<int>(type_a),
                                                                  reinterpret_cast<const void*>(a), lda,
                                                                  static_cast<int>(compute), device, host);
                          });
}

inline int XgeqrfWorkspace(LibraryCallContext& c, int64_t handle, int64_t params, int64_t m, int64_t n,
                           int64_t type_a, int64_t a, int64_t lda, int64_t type_tau, int64_t tau, int64_t compute,
                           uint64_t device_bytes, uint64_t host_bytes) {
  return CoversXWorkspace(c, "cusolverDnXgeqrf_bufferSize", handle, params, device_bytes, host_bytes,
                          [&](void* query, void* h, void* p, size_t* device, size_t* host) {
                            using Query = int (*)(void*, void*, int64_t, int64_t, int, const void*, int64_t, int,
                                                  const void*, int, size_t*, size_t*);
                            return reinterpret_cast<Query>(query)(
                                h, p, m, n, static_cast<int>(type_a), reinterpret_cast<const void*>(a), lda,
                                static_cast<int>(type_tau), reinterpret_cast<const void*>(tau),
                                static_cast<int>(compute), device, host);
                          });
}

inline int XsyevdWorkspace(LibraryCallContext& c, int64_t handle, int64_t params, int64_t jobz, int64_t uplo,
                           int64_t n, int64_t type_a, int64_t a, int64_t lda, int64_t type_w, int64_t w,
                           int64_t compute, uint64_t device_bytes, uint64_t host_bytes) {
  return CoversXWorkspace(c, "cusolverDnXsyevd_bufferSize", handle, params, device_bytes, host_bytes,
                          [&](void* query, void* h, void* p, size_t* device, size_t* host) {
                            using Query = int (*)(void*, void*, int, int, int64_t, int, const void*, int64_t, int,
                                                  const void*, int, size_t*, size_t*);
                            return reinterpret_cast<Query>(query)(
                                h, p, static_cast<int>(jobz), static_cast<int>(uplo), n, static_cast<int>(type_a),
                                reinterpret_cast<const void*>(a), lda, static_cast<int>(type_w),
                                reinterpret_cast<const void*>(w), static_cast<int>(compute), device, host);
                          });
}

}  // namespace rcuda::library
