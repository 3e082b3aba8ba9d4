// CudaExecutor: graphs (cuda_executor.h). The client builds a graph and
// sends it whole; the executor builds the driver graph from it, with pinned
// staging for the host side of memcpy nodes (counted against the session's
// host budget) and host nodes that reach the client over the host channel.
#include <cstring>

#include "server/cuda_executor.h"
#include "server/launch_attributes.h"
#include "server/strided_copy.h"

namespace rcuda {

Status CudaExecutor::GraphOf(uint64_t handle, GraphExec** g) {
  auto it = graphs_.find(handle);
  if (it == graphs_.end()) return Status::Cuda(kInvalidResourceHandle, "unknown graph exec");
  *g = it->second.get();
  return Status::Ok();
}

Status CudaExecutor::KernelNodeParams(const GraphNodeSpec& n, CUDA_KERNEL_NODE_PARAMS* p,
                                      std::vector<void*>* pointers) {
  const FunctionEntry* f = nullptr;
  RCUDA_RETURN_IF_ERROR(FunctionOf(n.function, &f));
  RCUDA_RETURN_IF_ERROR(ParamPointers(*f, n.params, pointers));
  std::memset(p, 0, sizeof *p);
  p->func = f->function;
  p->gridDimX = n.grid.x;
  p->gridDimY = n.grid.y;
  p->gridDimZ = n.grid.z;
  p->blockDimX = n.block.x;
  p->blockDimY = n.block.y;
  p->blockDimZ = n.block.z;
  p->sharedMemBytes = n.shared_bytes;
  p->kernelParams = pointers->empty() ? nullptr : pointers->data();
  return Status::Ok();
}

// Graph staging counts against the session's host budget.
void* CudaExecutor::AllocateStaging(GraphExec* g, size_t size) {
  size = std::max<size_t>(size, 1);
  if (!host_budget_.Take(size)) return nullptr;
  void* p = nullptr;
  if (drv_.cuMemHostAlloc(&p, size, 0) != CUDA_SUCCESS) {
    host_budget_.Give(size);
    return nullptr;
  }
  g->staging.emplace_back(p, size);
  return p;
}

void CudaExecutor::FreeStaging(std::vector<std::pair<void*, size_t>>* staging) {
  for (auto& [p, size] : *staging) {
    drv_.cuMemFreeHost(p);
    host_budget_.Give(size);
  }
  staging->clear();
}

void CudaExecutor::DestroyGraph(GraphExec* g) {
  if (g->graph) drv_.cuGraphDestroy(g->graph);
  g->graph = nullptr;
  FreeStaging(&g->staging);
  g->deliveries.clear();
  g->host_calls.clear();
  g->inputs.clear();
}

// A host-side memcpy node copies from or to staging the graph owns. A
// device-to-host copy is followed by a host node that hands the staging to
// the client; nodes that depend on the copy depend on that host node
// (*tail).
Status CudaExecutor::AddMemcpyNode(const GraphNodeSpec& n, const std::vector<CUgraphNode>& deps, GraphExec* g,
                                   CUgraphNode* node, CUgraphNode* tail) {
  CUDA_MEMCPY3D m = DeviceCopy(n.copy);
  void* staging = nullptr;
  if (n.direction != GraphNodeSpec::Direction::kDeviceToDevice) {
    staging = AllocateStaging(g, n.copy.packed_bytes());
    if (!staging) {
      return Status::OutOfMemory("cannot allocate pinned staging for a graph (the session's host staging is " +
                                 std::to_string(host_budget_.limit()) + " bytes)");
    }
  }
  if (n.direction == GraphNodeSpec::Direction::kHostToDevice) {
    m.srcMemoryType = CU_MEMORYTYPE_HOST;
    m.srcHost = staging;
    m.srcPitch = n.copy.width;
    m.srcHeight = n.copy.height;
    g->inputs.push_back(GraphInput{staging, n.copy.packed_bytes()});
  } else if (n.direction == GraphNodeSpec::Direction::kDeviceToHost) {
    m.dstMemoryType = CU_MEMORYTYPE_HOST;
    m.dstHost = staging;
    m.dstPitch = n.copy.width;
    m.dstHeight = n.copy.height;
  }
  RCUDA_RETURN_IF_ERROR(
      Check(drv_.cuGraphAddMemcpyNode(node, g->graph, deps.data(), deps.size(), &m, context_), "building a graph"));
  *tail = *node;
  if (n.direction != GraphNodeSpec::Direction::kDeviceToHost) return Status::Ok();
  auto d = std::make_unique<GraphDelivery>(GraphDelivery{host_channel_, staging, n.copy.packed_bytes(), n.pending});
  CUDA_HOST_NODE_PARAMS h{&GraphDelivery::Run, d.get()};
  g->deliveries.push_back(std::move(d));
  return Check(drv_.cuGraphAddHostNode(tail, g->graph, node, 1, &h), "cuGraphAddHostNode");
}

Status CudaExecutor::AddGraphNode(const GraphNodeSpec& n, const std::vector<CUgraphNode>& deps, GraphExec* g,
                                  CUgraphNode* node, CUgraphNode* tail) {
  CUresult r = CUDA_SUCCESS;
  switch (n.type) {
    case GraphNodeSpec::Type::kEmpty:
      r = drv_.cuGraphAddEmptyNode(node, g->graph, deps.data(), deps.size());
      break;
    case GraphNodeSpec::Type::kKernel: {
      CUDA_KERNEL_NODE_PARAMS p;
      std::vector<void*> pointers;
      RCUDA_RETURN_IF_ERROR(KernelNodeParams(n, &p, &pointers));
      g->modules.insert(functions_[n.function - 1].module);
      r = drv_.cuGraphAddKernelNode(node, g->graph, deps.data(), deps.size(), &p);
      CUlaunchAttribute attrs[kMaxLaunchAttributes];
      const unsigned count = LaunchAttributes(n.options, attrs);
      for (unsigned i = 0; r == CUDA_SUCCESS && i < count; ++i)
        r = drv_.cuGraphKernelNodeSetAttribute(*node, attrs[i].id, &attrs[i].value);
      break;
    }
    case GraphNodeSpec::Type::kMemcpy:
      return AddMemcpyNode(n, deps, g, node, tail);
    case GraphNodeSpec::Type::kMemset: {
      if (n.set.depth != 1) return Status::NotSupported("3D memset nodes are not supported");
      CUDA_MEMSET_NODE_PARAMS p{};
      p.dst = n.set.dst;
      p.pitch = n.set.pitch;
      p.value = n.set.value;
      p.elementSize = n.set.element_size;
      p.width = n.set.width / n.set.element_size;
      p.height = n.set.height;
      r = drv_.cuGraphAddMemsetNode(node, g->graph, deps.data(), deps.size(), &p, context_);
      break;
    }
    case GraphNodeSpec::Type::kHost: {
      auto call = std::make_unique<HostFunctionCall>(HostFunctionCall{host_channel_, n.host_id, /*once=*/false});
      CUDA_HOST_NODE_PARAMS h{&HostFunctionCall::Run, call.get()};
      g->host_calls.push_back(std::move(call));
      r = drv_.cuGraphAddHostNode(node, g->graph, deps.data(), deps.size(), &h);
      break;
    }
    case GraphNodeSpec::Type::kEventRecord:
    case GraphNodeSpec::Type::kEventWait: {
      CUevent e = nullptr;
      RCUDA_RETURN_IF_ERROR(EventOf(n.event, &e));
      r = n.type == GraphNodeSpec::Type::kEventRecord
              ? drv_.cuGraphAddEventRecordNode(node, g->graph, deps.data(), deps.size(), e)
              : drv_.cuGraphAddEventWaitNode(node, g->graph, deps.data(), deps.size(), e);
      break;
    }
  }
  *tail = *node;
  return Check(r, "building a graph");
}

// Builds the driver graph of `specs`; on failure `g` holds nothing.
Status CudaExecutor::BuildGraph(const std::vector<GraphNodeSpec>& specs, GraphExec* g) {
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuGraphCreate(&g->graph, 0), "cuGraphCreate"));
  g->nodes.assign(specs.size(), nullptr);
  g->spec_types.assign(specs.size(), GraphNodeSpec::Type::kEmpty);
  std::vector<CUgraphNode> tail(specs.size());  // what a node's dependents wait for
  for (size_t i = 0; i < specs.size(); ++i) {
    const GraphNodeSpec& n = specs[i];
    std::vector<CUgraphNode> deps;
    Status s;
    for (uint32_t d : n.dependencies) {
      if (d >= i) {
        s = Status::InvalidValue("graph dependency on a later node");
        break;
      }
      deps.push_back(tail[d]);
    }
    if (s.ok()) s = AddGraphNode(n, deps, g, &g->nodes[i], &tail[i]);
    if (!s.ok()) {
      DestroyGraph(g);
      return s;
    }
    g->spec_types[i] = n.type;
  }
  return Status::Ok();
}

Status CudaExecutor::GraphInstantiate(const std::vector<GraphNodeSpec>& nodes, uint64_t* exec) {
  auto g = std::make_unique<GraphExec>();
  RCUDA_RETURN_IF_ERROR(BuildGraph(nodes, g.get()));
  CUresult r = drv_.cuGraphInstantiateWithFlags(&g->exec, g->graph, 0);
  if (r != CUDA_SUCCESS) {
    DestroyGraph(g.get());
    return drv_.Error(r, "cuGraphInstantiateWithFlags");
  }
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventCreate(&g->last_launch, CU_EVENT_DISABLE_TIMING), "cuEventCreate"));
  *exec = ++next_handle_;
  graphs_[*exec] = std::move(g);
  return Status::Ok();
}

Status CudaExecutor::GraphLaunch(uint64_t exec, uint64_t stream, uint64_t input_bytes, const ChunkReader& read) {
  GraphExec* g = nullptr;
  RCUDA_RETURN_IF_ERROR(GraphOf(exec, &g));
  if (g->dead) return Status::Cuda(kInvalidResourceHandle, "the graph launches a function of an unloaded module");
  CUstream s = nullptr;
  RCUDA_RETURN_IF_ERROR(StreamOf(stream, &s));
  uint64_t expected = 0;
  for (const auto& in : g->inputs) expected += in.size;
  if (expected != input_bytes) return Status::InvalidValue("graph launch input size mismatch");
  if (!g->inputs.empty()) {
    // The staging of the previous launch must have been consumed.
    RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventSynchronize(g->last_launch), "graph launch"));
    for (const auto& in : g->inputs) RCUDA_RETURN_IF_ERROR(read(in.buffer, in.size));
  }
  launched_since_sync_ = true;
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuGraphLaunch(g->exec, s), "cuGraphLaunch"));
  return Check(drv_.cuEventRecord(g->last_launch, s), "cuEventRecord");
}

Status CudaExecutor::GraphExecDestroy(uint64_t exec) {
  GraphExec* g = nullptr;
  RCUDA_RETURN_IF_ERROR(GraphOf(exec, &g));
  // Its host nodes' contexts and staging live until its launches are done.
  drv_.cuEventSynchronize(g->last_launch);
  drv_.cuGraphExecDestroy(g->exec);
  DestroyGraph(g);
  drv_.cuEventDestroy(g->last_launch);
  graphs_.erase(exec);
  return Status::Ok();
}

Status CudaExecutor::GraphExecKernelNodeSetParams(uint64_t exec, uint32_t node, const GraphNodeSpec& kernel) {
  GraphExec* g = nullptr;
  RCUDA_RETURN_IF_ERROR(GraphOf(exec, &g));
  if (node >= g->nodes.size() || g->spec_types[node] != GraphNodeSpec::Type::kKernel) {
    return Status::InvalidValue("not a kernel node");
  }
  CUDA_KERNEL_NODE_PARAMS params;
  std::vector<void*> pointers;
  RCUDA_RETURN_IF_ERROR(KernelNodeParams(kernel, &params, &pointers));
  RCUDA_RETURN_IF_ERROR(
      Check(drv_.cuGraphExecKernelNodeSetParams(g->exec, g->nodes[node], &params), "cuGraphExecKernelNodeSetParams"));
  g->modules.insert(functions_[kernel.function - 1].module);
  return Status::Ok();
}

Status CudaExecutor::GraphExecUpdate(uint64_t exec, const std::vector<GraphNodeSpec>& nodes) {
  GraphExec* g = nullptr;
  RCUDA_RETURN_IF_ERROR(GraphOf(exec, &g));
  auto fresh = std::make_unique<GraphExec>();
  RCUDA_RETURN_IF_ERROR(BuildGraph(nodes, fresh.get()));
  RCUDA_RETURN_IF_ERROR(Check(drv_.cuEventSynchronize(g->last_launch), "graph update"));
  CUgraphExecUpdateResultInfo info{};
  CUresult r = drv_.cuGraphExecUpdate(g->exec, fresh->graph, &info);
  if (r != CUDA_SUCCESS) {
    DestroyGraph(fresh.get());
    return drv_.Error(r, "cuGraphExecUpdate");
  }
  // The exec now uses the fresh graph's staging and host contexts, which
  // stay alive with it; node handles stay the original graph's (the graph
  // the exec was instantiated from, which later per-node updates name).
  FreeStaging(&g->staging);
  g->staging = std::move(fresh->staging);
  g->modules = std::move(fresh->modules);
  g->inputs = std::move(fresh->inputs);
  g->deliveries = std::move(fresh->deliveries);
  g->host_calls = std::move(fresh->host_calls);
  drv_.cuGraphDestroy(fresh->graph);
  fresh->graph = nullptr;
  return Status::Ok();
}

}  // namespace rcuda
