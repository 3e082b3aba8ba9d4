#include "server/driver_callbacks.h"

#include <spdlog/spdlog.h>

namespace rcuda {

void CUDA_CB HostFunctionCall::Run(void* data) {
  auto* h = static_cast<HostFunctionCall*>(data);
  Status s = h->channel->RunHostFunction(h->id);
  if (!s.ok()) spdlog::warn("running a host function on the client failed: {}", s.message());
  if (h->once) delete h;
}

void CUDA_CB CopyDelivery::Run(void* data) {
  auto* d = static_cast<CopyDelivery*>(data);
  Status s = d->channel->DeliverToHost(d->pending, d->buffer, d->size);
  if (!s.ok()) spdlog::warn("delivering an asynchronous copy to the client failed: {}", s.message());
  d->pool->Release(d->buffer);
  delete d;
}

void CUDA_CB GraphDelivery::Run(void* data) {
  auto* d = static_cast<GraphDelivery*>(data);
  Status s = d->channel->DeliverToHost(d->pending, d->buffer, d->size);
  if (!s.ok()) spdlog::warn("delivering graph output to the client failed: {}", s.message());
}

}  // namespace rcuda
