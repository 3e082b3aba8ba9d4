// The private C ABI that rcuda's libcudart.so.13 exports to rcuda's
// libcuda.so.1 (version node RCUDA_PRIVATE, names rcudaPrivate*).
//
// Why: a program that mixes the runtime and driver APIs must see one
// device, one context and one memory map, so libcuda.so.1 keeps no session
// of its own: it links to our libcudart (DT_NEEDED libcudart.so.13, RPATH
// $ORIGIN) and forwards through the runtime's public API, which already
// owns the session. This header holds what the public API cannot say.
#pragma once

#include <cstdint>

extern "C" {

// The version of this ABI. libcuda.so.1's cuInit refuses to run
// (CUDA_ERROR_NOT_INITIALIZED, logged) on a libcudart that does not export
// it or exports another version: NVIDIA's libcudart, found first by mistake.
#define RCUDA_PRIVATE_ABI_VERSION 1
int rcudaPrivateAbiVersion(void);

}
