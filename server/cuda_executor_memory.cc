// CudaExecutor: device memory, copies and fills, and the pinned staging that
// host-device copies go through (cuda_executor.h).
//
// Uploads take chunks from a pool that grows (to kUploadChunks) while earlier
// uploads wait behind busy streams, so that they never stop the session;
// downloads alternate between two chunks, so that the network send of one
// overlaps the copy into the other.
#include <algorithm>

#include "server/cuda_executor.h"
#include "server/strided_copy.h"

namespace rcuda {

Status CudaExecutor::Allocate(uint64_t size, uint64_t* ptr) {
  // cudaMalloc(0) succeeds with a null pointer.
  if (size == 0) {
    *ptr = 0;
    return Status::Ok();
  }
  CUdeviceptr p = 0;
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuMemAlloc(&p, size), "cuMemAlloc"));
  *ptr = p;
  return Status::Ok();
}

Status CudaExecutor::Free(uint64_t ptr) {
  if (ptr == 0) return Status::Ok();
  return Check(drv_.cuMemFree(ptr), "cuMemFree");
}

Status CudaExecutor::MemGetInfo(uint64_t* free, uint64_t* total) {
  size_t f = 0, t = 0;
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuMemGetInfo(&f, &t), "cuMemGetInfo"));
  *free = f;
  *total = t;
  return Status::Ok();
}

Status CudaExecutor::AllocatePitch(uint64_t width, uint64_t height, uint64_t* ptr, uint64_t* pitch) {
  CUdeviceptr p = 0;
  size_t pt = 0;
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuMemAllocPitch(&p, &pt, width, height, 16), "cuMemAllocPitch"));
  *ptr = p;
  *pitch = pt;
  return Status::Ok();
}

// Staging for host-to-device copies: pinned chunks, each free again once the
// copy that reads it has run (its event). At the limit it waits for the
// oldest chunk.
Status CudaExecutor::AcquireUpload(Staging* out) {
  while (!upload_busy_.empty()) {
    CUresult r = drv_.cuEventQuery(upload_busy_.front().event);
    if (r == CUDA_ERROR_NOT_READY) break;
    if (r != CUDA_SUCCESS) return drv_.Error(r, "copy to device");
    upload_free_.push_back(upload_busy_.front());
    upload_busy_.pop_front();
  }
  if (!upload_free_.empty()) {
    *out = upload_free_.back();
    upload_free_.pop_back();
    return Status::Ok();
  }
  if (upload_count_ < kUploadChunks) {
    Staging buf;
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuMemHostAlloc(&buf.host, kStagingChunk, 0), "cuMemHostAlloc"));
    CUresult r = drv_.cuEventCreate(&buf.event, CU_EVENT_DISABLE_TIMING);
    if (r != CUDA_SUCCESS) {
      drv_.cuMemFreeHost(buf.host);
      return drv_.Error(r, "cuEventCreate");
    }
    ++upload_count_;
    *out = buf;
    return Status::Ok();
  }
  *out = upload_busy_.front();
  upload_busy_.pop_front();
  return Check(drv_.cuEventSynchronize(out->event), "copy to device");
}

// Both download chunks must be free before they are refilled.
// A copy that failed midway may leave staging buffers still being written:
// the next copy waits for them. After one that completed, nothing is pending
// and this costs no driver call.
Status CudaExecutor::WaitForDownloadStaging() {
  if (!download_staging_pending_) return Status::Ok();
  for (auto& buf : download_staging_) {
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventSynchronize(buf.event), "copy from device"));
  }
  download_staging_pending_ = false;
  return Status::Ok();
}

Status CudaExecutor::CopyToDevice(uint64_t dst, uint64_t size, uint64_t stream, const ChunkReader& read) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  for (uint64_t done = 0; done < size;) {
    Staging buf;
    RCUDA_RETURN_IF_ERROR(AcquireUpload(&buf));
    size_t n = std::min<uint64_t>(size - done, kStagingChunk);
    Status st = read(buf.host, n);
    CUresult r = CUDA_SUCCESS;
    if (st.ok()) r = drv_.cuMemcpyHtoDAsync(dst + done, buf.host, n, s);
    if (st.ok() && r == CUDA_SUCCESS) r = drv_.cuEventRecord(buf.event, s);
    upload_busy_.push_back(buf);  // free again once its event has passed
    RCUDA_RETURN_IF_ERROR(st);
    RCUDA_RETURN_IF_ERROR(Check(r, "copy to device"));
    done += n;
  }
  return Status::Ok();
}

Status CudaExecutor::CopyFromDevice(uint64_t src, uint64_t size, uint64_t stream, const ChunkWriter& write) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  RCUDA_RETURN_IF_ERROR(WaitForDownloadStaging());
  if (s == CU_STREAM_LEGACY && size <= kStagingChunk) {
    // A small copy on the legacy stream (cudaMemcpy): one driver call, the
    // one a native program makes.
    Staging& buf = download_staging_[0];
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuMemcpyDtoH(buf.host, src, size), "cuMemcpyDtoH"));
    return write(buf.host, size);
  }
  download_staging_pending_ = true;  // until every issued chunk was waited for
  constexpr size_t kBuffers = std::tuple_size_v<decltype(download_staging_)>;
  uint64_t issued = 0, written = 0;
  std::array<size_t, kBuffers> pending{};
  size_t issue_index = 0, write_index = 0;
  auto issue = [&]() REQUIRES(session_thread_) -> Status {
    Staging& buf = download_staging_[issue_index];
    size_t n = std::min<uint64_t>(size - issued, kStagingChunk);
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuMemcpyDtoHAsync(buf.host, src + issued, n, s), "cuMemcpyDtoHAsync"));
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventRecord(buf.event, s), "cuEventRecord"));
    pending[issue_index] = n;
    issued += n;
    issue_index = (issue_index + 1) % kBuffers;
    return Status::Ok();
  };
  for (size_t i = 0; i < kBuffers && issued < size; ++i) RCUDA_RETURN_IF_ERROR(issue());
  while (written < size) {
    Staging& buf = download_staging_[write_index];
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventSynchronize(buf.event), "cuMemcpyDtoHAsync"));
    RCUDA_RETURN_IF_ERROR(write(buf.host, pending[write_index]));
    written += pending[write_index];
    write_index = (write_index + 1) % kBuffers;
    if (issued < size) RCUDA_RETURN_IF_ERROR(issue());
  }
  download_staging_pending_ = false;
  return Status::Ok();
}

Status CudaExecutor::PrepareCopyFromDevice(uint64_t src, uint64_t size, uint64_t stream, std::function<Status()>* wait,
                                           const void** data, std::function<void()>* release) {
  if (size > kDeferredCopyMax) return Status::NotSupported("deferred copy too large");
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  void* buffer = pinned_pool_.Acquire(drv_, size);
  if (!buffer) return Status::NotSupported("no pinned memory for a deferred copy");
  CUevent done = nullptr;
  CUresult r = drv_.cuMemcpyDtoHAsync(buffer, src, size, s);
  if (r == CUDA_SUCCESS) r = drv_.cuEventCreate(&done, CU_EVENT_DISABLE_TIMING);
  if (r == CUDA_SUCCESS) r = drv_.cuEventRecord(done, s);
  if (r != CUDA_SUCCESS) {
    if (done) drv_.cuEventDestroy(done);
    pinned_pool_.Release(buffer);
    return drv_.Error(r, "cuMemcpyDtoHAsync");
  }
  // Both closures run on a thread of the wait pool.
  CudaDriver* drv = &drv_;
  CUcontext ctx = context_;
  *wait = [drv, ctx, done] {
    drv->cuCtxSetCurrent(ctx);
    CUresult result = drv->cuEventSynchronize(done);
    drv->cuEventDestroy(done);
    return result == CUDA_SUCCESS ? Status::Ok() : drv->Error(result, "cuMemcpyDtoHAsync");
  };
  *data = buffer;
  PinnedPool* pool = &pinned_pool_;
  *release = [pool, buffer] { pool->Release(buffer); };
  return Status::Ok();
}

Status CudaExecutor::CopyOnDevice(uint64_t dst, uint64_t src, uint64_t size, uint64_t stream) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  return Check(drv_.cuMemcpyDtoDAsync(dst, src, size, s), "cuMemcpyDtoDAsync");
}

Status CudaExecutor::Memset(uint64_t dst, uint8_t value, uint64_t size, uint64_t stream) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  return Check(drv_.cuMemsetD8Async(dst, value, size, s), "cuMemsetD8Async");
}

Status CudaExecutor::CopyToDevice3D(const Copy3D& c, uint64_t stream, const ChunkReader& read) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  CopyPieceCursor pieces(c, kStagingChunk);
  for (CopyPiece p; pieces.Next(&p);) {
    Staging buf;
    RCUDA_RETURN_IF_ERROR(AcquireUpload(&buf));
    Status st = read(buf.host, p.bytes());
    CUresult r = CUDA_SUCCESS;
    if (st.ok()) {
      CUDA_MEMCPY3D m = PieceCopy(c, p, buf.host, /*to_device=*/true);
      r = drv_.cuMemcpy3DAsync(&m, s);
    }
    if (st.ok() && r == CUDA_SUCCESS) r = drv_.cuEventRecord(buf.event, s);
    upload_busy_.push_back(buf);
    RCUDA_RETURN_IF_ERROR(st);
    RCUDA_RETURN_IF_ERROR(Check(r, "copy to device"));
  }
  return Status::Ok();
}

Status CudaExecutor::CopyFromDevice3D(const Copy3D& c, uint64_t stream, const ChunkWriter& write) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  RCUDA_RETURN_IF_ERROR(WaitForDownloadStaging());
  download_staging_pending_ = true;  // until every issued piece was waited for
  constexpr size_t kBuffers = std::tuple_size_v<decltype(download_staging_)>;
  CopyPieceCursor pieces(c, kStagingChunk);
  std::array<CopyPiece, kBuffers> in_flight{};
  CopyPiece next{};
  bool more = pieces.Next(&next);
  uint64_t issued = 0, written = 0;
  auto issue = [&]() REQUIRES(session_thread_) -> Status {
    Staging& buf = download_staging_[issued % kBuffers];
    CUDA_MEMCPY3D m = PieceCopy(c, next, buf.host, /*to_device=*/false);
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuMemcpy3DAsync(&m, s), "cuMemcpy3DAsync"));
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventRecord(buf.event, s), "cuEventRecord"));
    in_flight[issued % kBuffers] = next;
    ++issued;
    more = pieces.Next(&next);
    return Status::Ok();
  };
  while (more && issued < kBuffers) RCUDA_RETURN_IF_ERROR(issue());
  while (written < issued) {
    Staging& buf = download_staging_[written % kBuffers];
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventSynchronize(buf.event), "cuMemcpy3DAsync"));
    RCUDA_RETURN_IF_ERROR(write(buf.host, in_flight[written % kBuffers].bytes()));
    ++written;
    if (more) RCUDA_RETURN_IF_ERROR(issue());
  }
  download_staging_pending_ = false;
  return Status::Ok();
}

// The copy lands in pinned memory of the pool; a host function behind it on
// the stream hands the bytes to the client, so that the program sees them
// exactly when the stream has reached the copy. When the session's host
// budget cannot hold it, the copy is delivered now, through the staging
// buffers, once the stream has reached it: the session waits
// (back-pressure) instead of pinning more.
Status CudaExecutor::CopyFromDevice3DAsync(const Copy3D& c, uint64_t stream, uint64_t pending) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  if (!host_channel_) return Status::NotSupported("no host channel");
  const uint64_t size = c.packed_bytes();
  void* buffer = size <= host_budget_.limit() ? pinned_pool_.Acquire(drv_, size) : nullptr;
  if (!buffer) {
    // The stream's earlier work first, host functions included: they need
    // the host channel, which the delivery holds while it copies.
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuStreamSynchronize(s), "cuStreamSynchronize"));
    return host_channel_->DeliverToHostFrom(pending, size, [&](const ChunkWriter& write) NO_THREAD_SAFETY_ANALYSIS {
      return CopyFromDevice3D(c, stream, write);  // on this thread, before DeliverToHostFrom returns
    });
  }
  uint64_t offset = 0;
  CopyPieceCursor pieces(c, kStagingChunk);
  for (CopyPiece p; pieces.Next(&p);) {
    CUDA_MEMCPY3D m = PieceCopy(c, p, static_cast<char*>(buffer) + offset, /*to_device=*/false);
    CUresult r = drv_.cuMemcpy3DAsync(&m, s);
    if (r != CUDA_SUCCESS) {
      pinned_pool_.Release(buffer);
      return drv_.Error(r, "cuMemcpy3DAsync");
    }
    offset += p.bytes();
  }
  auto* delivery = new CopyDelivery{host_channel_, &pinned_pool_, buffer, size, pending};
  CUresult r = drv_.cuLaunchHostFunc(s, &CopyDelivery::Run, delivery);
  if (r != CUDA_SUCCESS) {
    // The copy may still be in flight: leak the buffer rather than reuse it.
    delete delivery;
    return drv_.Error(r, "cuLaunchHostFunc");
  }
  return Status::Ok();
}

Status CudaExecutor::CopyOnDevice3D(const Copy3D& c, uint64_t stream) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  CUDA_MEMCPY3D m = DeviceCopy(c);
  return Check(drv_.cuMemcpy3DAsync(&m, s), "cuMemcpy3DAsync");
}

Status CudaExecutor::Memset3D(const Set3D& m, uint64_t stream) {
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  for (uint64_t z = 0; z < m.depth; ++z) {
    CUdeviceptr slice = m.dst + z * m.slice_height * m.pitch;
    uint64_t elements = m.width / m.element_size;
    CUresult r = m.element_size == 4   ? drv_.cuMemsetD2D32Async(slice, m.pitch, m.value, elements, m.height, s)
                 : m.element_size == 2 ? drv_.cuMemsetD2D16Async(slice, m.pitch, static_cast<uint16_t>(m.value),
                                                                 elements, m.height, s)
                                       : drv_.cuMemsetD2D8Async(slice, m.pitch, static_cast<uint8_t>(m.value),
                                                                elements, m.height, s);
    RCUDA_RETURN_IF_ERROR(Check(r, "cuMemsetD2DAsync"));
  }
  return Status::Ok();
}

}  // namespace rcuda
