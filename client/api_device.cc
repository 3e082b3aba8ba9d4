// Devices: counting and selecting them, and their properties, fetched once
// per device in the session handshake and answered locally afterwards.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

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

// ---- Limits, flags, PCI identity, peers ------------------------------------

namespace {

std::mutex device_flags_mu;
std::map<int, unsigned>& DeviceFlags() {
  static auto* flags = new std::map<int, unsigned>;
  return *flags;
}

}  // namespace

extern "C" {

// The PCI address is the GPU's on its own server; two servers' GPUs may
// share one, and cudaDeviceGetByPCIBusId then finds the first.
RCUDA_EXPORT cudaError_t cudaDeviceGetPCIBusId(char* bus_id, int len, int device) {
  if (!bus_id || len <= 0) return Fail(cudaErrorInvalidValue);
  cudaError_t error;
  Session* s = ConnectedSession(device, &error);
  if (!s) return Fail(error);
  const rcuda::DeviceDescription& d = s->device_info();
  // CUDA's form: a four-digit domain (13 bytes with the terminator), not
  // NVML's eight.
  std::snprintf(bus_id, len, "%04X:%02X:%02X.0", d.attribute(cudaDevAttrPciDomainId), d.attribute(cudaDevAttrPciBusId),
                d.attribute(cudaDevAttrPciDeviceId));
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaDeviceGetByPCIBusId(int* device, const char* bus_id) {
  if (!device || !bus_id) return Fail(cudaErrorInvalidValue);
  unsigned domain = 0, bus = 0, dev = 0;
  if (std::sscanf(bus_id, "%x:%x:%x", &domain, &bus, &dev) != 3) {
    domain = 0;
    if (std::sscanf(bus_id, "%x:%x", &bus, &dev) != 2) return Fail(cudaErrorInvalidValue);
  }
  Runtime& rt = Runtime::Get();
  for (int i = 0; i < rt.device_count(); ++i) {
    cudaError_t error;
    Session* s = ConnectedSession(i, &error);
    if (!s) continue;
    const rcuda::DeviceDescription& d = s->device_info();
    if (static_cast<unsigned>(d.attribute(cudaDevAttrPciDomainId)) == domain &&
        static_cast<unsigned>(d.attribute(cudaDevAttrPciBusId)) == bus &&
        static_cast<unsigned>(d.attribute(cudaDevAttrPciDeviceId)) == dev) {
      *device = i;
      return cudaSuccess;
    }
  }
  return Fail(cudaErrorInvalidDevice);
}

RCUDA_EXPORT cudaError_t cudaSetDeviceFlags(unsigned int flags) {
  if (flags & ~(cudaDeviceScheduleMask | cudaDeviceMapHost | cudaDeviceLmemResizeToMax | cudaDeviceSyncMemops)) {
    return Fail(cudaErrorInvalidValue);
  }
  // Scheduling flags only change how the host thread waits on the GPU's
  // machine; rcuda's waits are network waits either way. Recorded, reported.
  std::lock_guard lock(device_flags_mu);
  DeviceFlags()[Runtime::Get().current_device()] = flags;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaGetDeviceFlags(unsigned int* flags) {
  if (!flags) return Fail(cudaErrorInvalidValue);
  std::lock_guard lock(device_flags_mu);
  auto it = DeviceFlags().find(Runtime::Get().current_device());
  *flags = it == DeviceFlags().end() ? cudaDeviceScheduleAuto : it->second;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaInitDevice(int device, unsigned int device_flags, unsigned int flags) {
  cudaError_t error;
  if (!ConnectedSession(device, &error)) return Fail(error);
  if (device_flags) {
    std::lock_guard lock(device_flags_mu);
    DeviceFlags()[device] = device_flags;
  }
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaChooseDevice(int* device, const cudaDeviceProp* prop) {
  if (!device || !prop) return Fail(cudaErrorInvalidValue);
  // The device whose compute capability is closest to the requested one.
  Runtime& rt = Runtime::Get();
  int best = -1, best_score = 0;
  for (int i = 0; i < rt.device_count(); ++i) {
    cudaError_t error;
    Session* s = ConnectedSession(i, &error);
    if (!s) continue;
    const rcuda::DeviceDescription& d = s->device_info();
    int cc = d.attribute(cudaDevAttrComputeCapabilityMajor) * 10 + d.attribute(cudaDevAttrComputeCapabilityMinor);
    int want = prop->major * 10 + prop->minor;
    int score = -std::abs(cc - want);
    if (best < 0 || score > best_score) {
      best = i;
      best_score = score;
    }
  }
  if (best < 0) return Fail(cudaErrorNoDevice);
  *device = best;
  return cudaSuccess;
}

// Peer access lets a kernel dereference another GPU's memory, which rcuda
// cannot offer between its virtual devices (they may sit on different
// machines). Copies between devices work regardless (cudaMemcpyPeer).
RCUDA_EXPORT cudaError_t cudaDeviceCanAccessPeer(int* can_access, int device, int peer) {
  Runtime& rt = Runtime::Get();
  if (!can_access || !rt.session(device) || !rt.session(peer)) return Fail(cudaErrorInvalidDevice);
  *can_access = 0;
  return cudaSuccess;
}

RCUDA_EXPORT cudaError_t cudaDeviceEnablePeerAccess(int peer, unsigned int flags) {
  if (!Runtime::Get().session(peer)) return Fail(cudaErrorInvalidDevice);
  return Fail(cudaErrorPeerAccessUnsupported);
}

RCUDA_EXPORT cudaError_t cudaDeviceDisablePeerAccess(int peer) {
  if (!Runtime::Get().session(peer)) return Fail(cudaErrorInvalidDevice);
  return Fail(cudaErrorPeerAccessNotEnabled);
}

RCUDA_EXPORT cudaError_t cudaDeviceGetP2PAttribute(int* value, cudaDeviceP2PAttr attr, int src, int dst) {
  Runtime& rt = Runtime::Get();
  if (!value || !rt.session(src) || !rt.session(dst) || src == dst) return Fail(cudaErrorInvalidDevice);
  *value = 0;
  return cudaSuccess;
}

}  // extern "C"
