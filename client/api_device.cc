// Devices: counting and selecting them, and their properties, fetched once
// per device in the session handshake and answered locally afterwards.
#include <cstring>

#include "client/api_common.h"

using namespace rcuda::client;

namespace {

// The session of `device`, connected, or nullptr with *error set.
Session* ConnectedSession(int device, cudaError_t* error) {
  Runtime& rt = Runtime::Get();
  if (!rt.config_status().ok()) {
    *error = cudaErrorInvalidValue;
    return nullptr;
  }
  Session* s = rt.session(device);
  if (!s) {
    *error = cudaErrorInvalidDevice;
    return nullptr;
  }
  rcuda::Status status = s->Connect();
  if (!status.ok()) {
    *error = static_cast<cudaError_t>(status.code());
    return nullptr;
  }
  return s;
}

}  // namespace

extern "C" {

RCUDA_EXPORT cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return Fail(cudaErrorInvalidValue);
  Runtime& rt = Runtime::Get();
  if (!rt.config_status().ok()) return Fail(cudaErrorInvalidValue);
  *count = rt.device_count();
  return *count ? cudaSuccess : Fail(cudaErrorNoDevice);
}

RCUDA_EXPORT cudaError_t cudaGetDevice(int* device) {
  if (!device) return Fail(cudaErrorInvalidValue);
  *device = Runtime::Get().current_device();
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaSetDevice(int device) {
  Runtime& rt = Runtime::Get();
  if (device < 0 || device >= rt.device_count()) return Fail(cudaErrorInvalidDevice);
  rt.set_current_device(device);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return Fail(cudaErrorInvalidValue);
  cudaError_t error;
  Session* s = ConnectedSession(device, &error);
  if (!s) return Fail(error);
  std::memcpy(prop, s->device_info().props.data(), sizeof *prop);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!value) return Fail(cudaErrorInvalidValue);
  cudaError_t error;
  Session* s = ConnectedSession(device, &error);
  if (!s) return Fail(error);
  if (attr <= 0 || attr >= static_cast<int>(s->device_info().attributes.size())) return Fail(cudaErrorInvalidValue);
  *value = s->device_info().attribute(attr);
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaDeviceSynchronize() {
  RCUDA_CURRENT_SESSION(session);
  return Return(session->Synchronize());
}

RCUDA_EXPORT cudaError_t cudaDeviceReset() {
  RCUDA_CURRENT_SESSION(session);
  LastError(/*reset=*/true);
  return Return(session->Reset());
}

RCUDA_EXPORT cudaError_t cudaRuntimeGetVersion(int* version) {
  if (!version) return Fail(cudaErrorInvalidValue);
  *version = CUDART_VERSION;
  return cudaSuccess;
}

// The version of the driver on the GPU's server.
RCUDA_EXPORT cudaError_t cudaDriverGetVersion(int* version) {
  if (!version) return Fail(cudaErrorInvalidValue);
  cudaError_t error;
  Session* s = ConnectedSession(Runtime::Get().current_device(), &error);
  if (!s) {
    *version = 0;  // as CUDA answers when no driver is installed
    return cudaSuccess;
  }
  *version = s->device_info().driver_version;
  return cudaSuccess;
}

RCUDA_EXPORT cudaChannelFormatDesc cudaCreateChannelDesc(int x, int y, int z, int w, cudaChannelFormatKind f) {
  cudaChannelFormatDesc desc;
  desc.x = x;
  desc.y = y;
  desc.z = z;
  desc.w = w;
  desc.f = f;
  return desc;
}

}  // extern "C"
