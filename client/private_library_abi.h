// The private C ABI that rcuda's libcudart.so.13 exports to rcuda's math
// libraries (client/libs/: libcublas.so.13, libcurand.so.10,
// libcufft.so.12, libcusolver.so.12, libcusparse.so.12), in the version
// node RCUDA_PRIVATE with client/driver/private_driver_abi.h's.
//
// Why: a replaced library's calls must travel in the program's one session
// (the current device's), with the program's streams, so the library keeps
// no session of its own: it links to our libcudart (DT_NEEDED, RPATH
// $ORIGIN) and sends each call through it (LibraryCall, docs/design.md
// "Library forwarding").
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

// One call of a forwarded library function, encoded by
// client/libs/library_call.h.
struct rcudaLibraryCall {
  uint32_t library;   // the library's wire id (its description's wire_id: cuBLAS 1, cuRAND 2, cuFFT 3,
                      // cuSOLVER 4, cuSPARSE 5)
  uint32_t function;  // the function's line in its description
  const int64_t* values;
  size_t value_count;
  const uint8_t* bytes;
  size_t byte_count;
};

// What came back: the library's status and, on success, its out values and
// result bytes (at most the capacities below; more breaks nothing: the call
// fails with cudaErrorInvalidValue).
struct rcudaLibraryReply {
  int32_t status;
  int64_t values[8];
  size_t value_count;
  uint8_t bytes[64];
  size_t byte_count;
};

// Sends the call through the current device's session (connecting it
// first). Returns a cudaError_t: cudaSuccess when the library answered
// (its status in reply->status), else why the session could not carry it.
int rcudaPrivateLibraryCall(const rcudaLibraryCall* call, rcudaLibraryReply* reply);
// The session's handle of a stream the program holds (cudaStream_t; null:
// the legacy stream, 0). cudaErrorInvalidResourceHandle for a stream that
// is not the current device's.
int rcudaPrivateStreamHandle(void* stream, uint64_t* handle);
// The reverse, for a stream handle a library returns: a stream the program
// handed to the library before, or null for 0.
int rcudaPrivateStreamOfHandle(uint64_t handle, void** stream);

}
