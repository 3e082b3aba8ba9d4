// CudaExecutor: stream attributes (cudaStreamSetAttribute, GetAttribute,
// CopyAttributes), forwarded to cuStream*Attribute on the session's streams.
// The dispatcher has already checked that an access policy window lies in the
// session's memory.
#include "server/cuda_executor.h"

namespace rcuda {

Status CudaExecutor::StreamSetAccessPolicyWindow(uint64_t stream, uint64_t base, uint64_t bytes, float hit_ratio,
                                                 uint32_t hit_prop, uint32_t miss_prop) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  CUstreamAttrValue v{};
  v.accessPolicyWindow.base_ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(base));
  v.accessPolicyWindow.num_bytes = bytes;
  v.accessPolicyWindow.hitRatio = hit_ratio;
  v.accessPolicyWindow.hitProp = static_cast<CUaccessProperty>(hit_prop);
  v.accessPolicyWindow.missProp = static_cast<CUaccessProperty>(miss_prop);
  return Check(drv_.cuStreamSetAttribute(s, CU_LAUNCH_ATTRIBUTE_ACCESS_POLICY_WINDOW, &v), "cuStreamSetAttribute");
}

Status CudaExecutor::StreamSetAttributeValue(uint64_t stream, uint32_t attr, int32_t value) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  CUstreamAttrValue v{};
  const auto id = static_cast<CUstreamAttrID>(attr);
  if (id == CU_LAUNCH_ATTRIBUTE_SYNCHRONIZATION_POLICY) {
    v.syncPolicy = static_cast<CUsynchronizationPolicy>(value);
  } else if (id == CU_LAUNCH_ATTRIBUTE_PRIORITY) {
    v.priority = value;
  } else {
    return Status::InvalidValue("stream attribute " + std::to_string(attr) + " is not a value attribute");
  }
  return Check(drv_.cuStreamSetAttribute(s, id, &v), "cuStreamSetAttribute");
}

Status CudaExecutor::StreamGetAttributes(uint64_t stream, uint64_t* window_base, uint64_t* window_bytes,
                                         float* hit_ratio, uint32_t* hit_prop, uint32_t* miss_prop,
                                         uint32_t* sync_policy, int32_t* priority) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  CUstreamAttrValue window{}, sync{}, prio{};
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuStreamGetAttribute(s, CU_LAUNCH_ATTRIBUTE_ACCESS_POLICY_WINDOW, &window),
                              "cuStreamGetAttribute"));
  RCUDA_RETURN_IF_ERROR(
      Check(drv_.cuStreamGetAttribute(s, CU_LAUNCH_ATTRIBUTE_SYNCHRONIZATION_POLICY, &sync), "cuStreamGetAttribute"));
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuStreamGetAttribute(s, CU_LAUNCH_ATTRIBUTE_PRIORITY, &prio), "cuStreamGetAttribute"));
  *window_base = reinterpret_cast<uintptr_t>(window.accessPolicyWindow.base_ptr);
  *window_bytes = window.accessPolicyWindow.num_bytes;
  *hit_ratio = window.accessPolicyWindow.hitRatio;
  *hit_prop = window.accessPolicyWindow.hitProp;
  *miss_prop = window.accessPolicyWindow.missProp;
  *sync_policy = sync.syncPolicy;
  *priority = prio.priority;
  return Status::Ok();
}

Status CudaExecutor::StreamCopyAttributes(uint64_t dst, uint64_t src) {
  CUstream d = nullptr, s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(dst, &d));
  RCUDA_RETURN_IF_ERROR(StreamOf(src, &s));
  return Check(drv_.cuStreamCopyAttributes(d, s), "cuStreamCopyAttributes");
}

}  // namespace rcuda
