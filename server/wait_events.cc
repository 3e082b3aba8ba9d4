#include "server/wait_events.h"

namespace rcuda {

Status WaitEvents::Take(CUevent* event) {
  {
    MutexLock lock(&mu_);
    if (!free_.empty()) {
      *event = free_.back();
      free_.pop_back();
      return Status::Ok();
    }
  }
  CUresult r = drv_->cuEventCreate(event, kFlags);
  return r == CUDA_SUCCESS ? Status::Ok() : drv_->Error(r, "cuEventCreate");
}

void WaitEvents::Give(CUevent event) {
  {
    MutexLock lock(&mu_);
    if (!closed_ && free_.size() < kKeptEvents) {
      free_.push_back(event);
      return;
    }
  }
  drv_->cuEventDestroy(event);
}

void WaitEvents::Close() {
  std::vector<CUevent> events;
  {
    MutexLock lock(&mu_);
    closed_ = true;
    events.swap(free_);
  }
  for (CUevent e : events) drv_->cuEventDestroy(e);
}

size_t WaitEvents::cached() {
  MutexLock lock(&mu_);
  return free_.size();
}

}  // namespace rcuda
