// TEST EQUIPMENT: CUDA graphs in the fake CUDA driver.
//
// A node's parameters are checked and copied when it is added, as the
// driver does. Instantiation copies the nodes into the executable graph; a
// launch queues one operation that runs the nodes on the stream's worker in
// creation order (a topological order: a node depends only on nodes added
// before it). Launches of one executable graph run one after another.
// Changes to an executable graph (cuGraphExecKernelNodeSetParams,
// cuGraphExecUpdate) affect later launches only.
#include <algorithm>

#include "tests/fake_driver/device_memory.h"
#include "tests/fake_driver/entry_points.h"
#include "tests/fake_driver/launch.h"
#include "tests/fake_driver/stream_engine.h"

namespace fake {
namespace {

struct NodeData {
  CUgraphNodeType type = CU_GRAPH_NODE_TYPE_EMPTY;
  KernelLaunch kernel;
  StridedCopy copy;
  CUmemorytype copy_types[2] = {};  // src, dst: what cuGraphExecUpdate may not change
  Fill fill;
  CUDA_HOST_NODE_PARAMS host{};
  Event* event = nullptr;
};

struct Graph;

struct GraphNode {
  Graph* graph = nullptr;
  size_t index = 0;
  std::vector<size_t> dependencies;  // indices of earlier nodes
  NodeData data;
};

struct Graph {
  std::vector<std::unique_ptr<GraphNode>> nodes;
};

struct GraphExec {
  Context* ctx = nullptr;
  std::vector<const GraphNode*> instantiated_from;  // the nodes whose handles address this graph's nodes
  std::vector<std::vector<size_t>> dependencies;
  // Replaced, never changed in place, so a launch in flight keeps its own.
  std::shared_ptr<const std::vector<NodeData>> nodes;
  CompletionRef last_launch;
};

CUresult GraphOf(CUgraph handle, Graph** graph) {
  auto* g = reinterpret_cast<Graph*>(handle);
  if (!D().graphs.Has(g)) return CUDA_ERROR_INVALID_HANDLE;
  *graph = g;
  return CUDA_SUCCESS;
}

CUresult ExecOf(CUgraphExec handle, GraphExec** exec) {
  auto* e = reinterpret_cast<GraphExec*>(handle);
  if (!D().graph_execs.Has(e)) return CUDA_ERROR_INVALID_HANDLE;
  *exec = e;
  return CUDA_SUCCESS;
}

CUresult EventOf(CUevent handle, Event** event) {
  auto* e = reinterpret_cast<Event*>(handle);
  if (!D().events.Has(e)) return CUDA_ERROR_INVALID_HANDLE;
  *event = e;
  return CUDA_SUCCESS;
}

// Adds a node after checking its graph and dependencies. `data` is complete.
CUresult AddNode(CUgraphNode* out, CUgraph handle, const CUgraphNode* dependencies, size_t count, NodeData data) {
  if (!D().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  Graph* g;
  CUresult r = GraphOf(handle, &g);
  if (r != CUDA_SUCCESS) return r;
  if (!out || (count && !dependencies)) return CUDA_ERROR_INVALID_VALUE;
  auto node = std::make_unique<GraphNode>();
  for (size_t i = 0; i < count; ++i) {
    auto* dep = reinterpret_cast<const GraphNode*>(dependencies[i]);
    if (!D().graph_nodes.Has(dep) || dep->graph != g) return CUDA_ERROR_INVALID_VALUE;
    if (std::count(node->dependencies.begin(), node->dependencies.end(), dep->index)) return CUDA_ERROR_INVALID_VALUE;
    node->dependencies.push_back(dep->index);
  }
  node->graph = g;
  node->index = g->nodes.size();
  node->data = std::move(data);
  *out = reinterpret_cast<CUgraphNode>(node.get());
  D().graph_nodes.Add(node.get());
  g->nodes.push_back(std::move(node));
  return CUDA_SUCCESS;
}

CUresult KernelNodeData(const CUDA_KERNEL_NODE_PARAMS_v2* p, NodeData* data) {
  if (!p) return CUDA_ERROR_INVALID_VALUE;
  Kernel* k;
  CUresult r = KernelOf(p->func ? static_cast<const void*>(p->func) : static_cast<const void*>(p->kern), &k);
  if (r != CUDA_SUCCESS) return r;
  const unsigned grid[3] = {p->gridDimX, p->gridDimY, p->gridDimZ};
  const unsigned block[3] = {p->blockDimX, p->blockDimY, p->blockDimZ};
  data->type = CU_GRAPH_NODE_TYPE_KERNEL;
  return PrepareLaunch(k, grid, block, p->sharedMemBytes, p->kernelParams, p->extra, &data->kernel);
}

void SignalNow(const CompletionRef& c) {
  std::lock_guard lock(D().mu);
  c->done = true;
  c->end_ns = NowNanos();
  D().cv.notify_all();
}

void WaitFor(const CompletionRef& c, Context* ctx) {
  std::unique_lock lock(D().mu);
  D().cv.wait(lock, [&] { return !Pending(c) || ctx->sticky != 0; });
}

struct LaunchPlan {
  std::shared_ptr<const std::vector<NodeData>> nodes;
  std::vector<CompletionRef> records;  // by node index; record nodes only
  std::vector<CompletionRef> waits;    // by node index; wait nodes only (null: event never recorded)
  Context* ctx = nullptr;
};

CUresult RunGraph(const LaunchPlan& plan) {
  const auto& nodes = *plan.nodes;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const NodeData& n = nodes[i];
    CUresult r = CUDA_SUCCESS;
    switch (n.type) {
      case CU_GRAPH_NODE_TYPE_KERNEL:
        r = RunKernel(n.kernel);
        break;
      case CU_GRAPH_NODE_TYPE_MEMCPY:
        r = ExecuteCopy(n.copy);
        break;
      case CU_GRAPH_NODE_TYPE_MEMSET:
        r = ExecuteFill(n.fill);
        break;
      case CU_GRAPH_NODE_TYPE_HOST:
        n.host.fn(n.host.userData);
        break;
      case CU_GRAPH_NODE_TYPE_EVENT_RECORD:
        SignalNow(plan.records[i]);
        break;
      case CU_GRAPH_NODE_TYPE_WAIT_EVENT:
        if (plan.waits[i]) WaitFor(plan.waits[i], plan.ctx);
        break;
      default:
        break;
    }
    if (r != CUDA_SUCCESS) return r;
  }
  return CUDA_SUCCESS;
}

}  // namespace

CUresult cuGraphCreate(CUgraph* graph, unsigned int flags) {
  std::lock_guard lock(D().mu);
  if (!D().initialized) return CUDA_ERROR_NOT_INITIALIZED;
  if (!graph || flags != 0) return CUDA_ERROR_INVALID_VALUE;
  auto* g = new Graph;
  D().graphs.Add(g);
  *graph = reinterpret_cast<CUgraph>(g);
  return CUDA_SUCCESS;
}

CUresult cuGraphDestroy(CUgraph graph) {
  std::lock_guard lock(D().mu);
  Graph* g;
  CUresult r = GraphOf(graph, &g);
  if (r != CUDA_SUCCESS) return r;
  for (auto& n : g->nodes) D().graph_nodes.Remove(n.get());
  D().graphs.Remove(g);
  delete g;
  return CUDA_SUCCESS;
}

CUresult cuGraphAddKernelNode(CUgraphNode* node, CUgraph graph, const CUgraphNode* dependencies, size_t count,
                              const CUDA_KERNEL_NODE_PARAMS_v2* params) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  NodeData data;
  if ((r = KernelNodeData(params, &data)) != CUDA_SUCCESS) return r;
  return AddNode(node, graph, dependencies, count, std::move(data));
}

CUresult cuGraphAddMemcpyNode(CUgraphNode* node, CUgraph graph, const CUgraphNode* dependencies, size_t count,
                              const CUDA_MEMCPY3D* params, CUcontext) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (!params) return CUDA_ERROR_INVALID_VALUE;
  NodeData data;
  data.type = CU_GRAPH_NODE_TYPE_MEMCPY;
  data.copy_types[0] = params->srcMemoryType;
  data.copy_types[1] = params->dstMemoryType;
  if ((r = ResolveCopy(*params, &data.copy)) != CUDA_SUCCESS) return r;
  return AddNode(node, graph, dependencies, count, std::move(data));
}

CUresult cuGraphAddMemsetNode(CUgraphNode* node, CUgraph graph, const CUgraphNode* dependencies, size_t count,
                              const CUDA_MEMSET_NODE_PARAMS* params, CUcontext) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  if (!params) return CUDA_ERROR_INVALID_VALUE;
  NodeData data;
  data.type = CU_GRAPH_NODE_TYPE_MEMSET;
  if ((r = ResolveFill(params->dst, params->pitch, params->value, params->elementSize, params->width, params->height,
                       &data.fill)) != CUDA_SUCCESS) {
    return r;
  }
  return AddNode(node, graph, dependencies, count, std::move(data));
}

CUresult cuGraphAddHostNode(CUgraphNode* node, CUgraph graph, const CUgraphNode* dependencies, size_t count,
                            const CUDA_HOST_NODE_PARAMS* params) {
  std::lock_guard lock(D().mu);
  if (!params || !params->fn) return CUDA_ERROR_INVALID_VALUE;
  NodeData data;
  data.type = CU_GRAPH_NODE_TYPE_HOST;
  data.host = *params;
  return AddNode(node, graph, dependencies, count, std::move(data));
}

CUresult cuGraphAddEventRecordNode(CUgraphNode* node, CUgraph graph, const CUgraphNode* dependencies, size_t count,
                                   CUevent event) {
  std::lock_guard lock(D().mu);
  NodeData data;
  data.type = CU_GRAPH_NODE_TYPE_EVENT_RECORD;
  CUresult r = EventOf(event, &data.event);
  if (r != CUDA_SUCCESS) return r;
  return AddNode(node, graph, dependencies, count, std::move(data));
}

CUresult cuGraphAddEventWaitNode(CUgraphNode* node, CUgraph graph, const CUgraphNode* dependencies, size_t count,
                                 CUevent event) {
  std::lock_guard lock(D().mu);
  NodeData data;
  data.type = CU_GRAPH_NODE_TYPE_WAIT_EVENT;
  CUresult r = EventOf(event, &data.event);
  if (r != CUDA_SUCCESS) return r;
  return AddNode(node, graph, dependencies, count, std::move(data));
}

CUresult cuGraphAddEmptyNode(CUgraphNode* node, CUgraph graph, const CUgraphNode* dependencies, size_t count) {
  std::lock_guard lock(D().mu);
  return AddNode(node, graph, dependencies, count, NodeData{});
}

CUresult cuGraphInstantiateWithFlags(CUgraphExec* exec, CUgraph graph, unsigned long long flags) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  Graph* g;
  if ((r = GraphOf(graph, &g)) != CUDA_SUCCESS) return r;
  if (!exec) return CUDA_ERROR_INVALID_VALUE;
  constexpr unsigned long long kHarmless =
      CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH | CUDA_GRAPH_INSTANTIATE_FLAG_USE_NODE_PRIORITY;
  if (flags & ~kHarmless) {
    Log("cuGraphInstantiateWithFlags: flags 0x%llx are not modeled by the fake driver", flags);
    return CUDA_ERROR_NOT_SUPPORTED;
  }
  auto e = std::make_unique<GraphExec>();
  e->ctx = ctx;
  auto nodes = std::make_shared<std::vector<NodeData>>();
  for (const auto& n : g->nodes) {
    e->instantiated_from.push_back(n.get());
    e->dependencies.push_back(n->dependencies);
    nodes->push_back(n->data);
  }
  e->nodes = std::move(nodes);
  *exec = reinterpret_cast<CUgraphExec>(e.get());
  D().graph_execs.Add(e.release());
  return CUDA_SUCCESS;
}

CUresult cuGraphLaunch(CUgraphExec exec, CUstream stream) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  GraphExec* e;
  Stream* s;
  if ((r = ExecOf(exec, &e)) != CUDA_SUCCESS || (r = ResolveStream(ctx, stream, &s)) != CUDA_SUCCESS) return r;
  if (e->ctx != ctx) return CUDA_ERROR_INVALID_CONTEXT;
  LaunchPlan plan;
  plan.nodes = e->nodes;
  plan.ctx = ctx;
  plan.records.resize(e->nodes->size());
  plan.waits.resize(e->nodes->size());
  Op op;
  op.what = "cuGraphLaunch";
  for (size_t i = 0; i < e->nodes->size(); ++i) {
    const NodeData& n = (*e->nodes)[i];
    if (n.type != CU_GRAPH_NODE_TYPE_EVENT_RECORD && n.type != CU_GRAPH_NODE_TYPE_WAIT_EVENT) continue;
    if (!D().events.Has(n.event)) return CUDA_ERROR_INVALID_HANDLE;  // destroyed since the node was added
    if (n.type == CU_GRAPH_NODE_TYPE_WAIT_EVENT) {
      plan.waits[i] = n.event->recorded;
    } else {
      // Recorded now, reached when the node runs.
      plan.records[i] = std::make_shared<Completion>();
      op.signals.push_back(plan.records[i]);
    }
  }
  for (size_t i = 0; i < plan.records.size(); ++i)
    if (plan.records[i]) (*e->nodes)[i].event->recorded = plan.records[i];
  if (Pending(e->last_launch)) op.waits.push_back(e->last_launch);
  op.run = [plan = std::move(plan)] { return RunGraph(plan); };
  e->last_launch = Enqueue(s, std::move(op));
  return CUDA_SUCCESS;
}

CUresult cuGraphExecDestroy(CUgraphExec exec) {
  std::lock_guard lock(D().mu);
  GraphExec* e;
  CUresult r = ExecOf(exec, &e);
  if (r != CUDA_SUCCESS) return r;
  // Launches in flight hold their own copy of the nodes.
  D().graph_execs.Remove(e);
  delete e;
  return CUDA_SUCCESS;
}

// A launch attribute of a kernel node, checked as at a launch (a cooperative
// grid that fits, cluster dimensions that divide the grid); the fake models
// no priority, and the node keeps nothing more than the check.
CUresult cuGraphKernelNodeSetAttribute(CUgraphNode node, CUkernelNodeAttrID attr, const CUkernelNodeAttrValue* value) {
  std::lock_guard lock(D().mu);
  auto* n = reinterpret_cast<GraphNode*>(node);
  if (!D().graph_nodes.Has(n) || !value || n->data.type != CU_GRAPH_NODE_TYPE_KERNEL) return CUDA_ERROR_INVALID_VALUE;
  CUlaunchAttribute a{};
  a.id = attr;
  a.value = *value;
  return ApplyLaunchAttributes(&a, 1, n->data.kernel);
}

// `node` must be a kernel node of the graph the executable graph was
// instantiated from, as CUDA documents.
CUresult cuGraphExecKernelNodeSetParams(CUgraphExec exec, CUgraphNode node, const CUDA_KERNEL_NODE_PARAMS_v2* params) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  GraphExec* e;
  if ((r = ExecOf(exec, &e)) != CUDA_SUCCESS) return r;
  auto* n = reinterpret_cast<const GraphNode*>(node);
  auto it = std::find(e->instantiated_from.begin(), e->instantiated_from.end(), n);
  if (!D().graph_nodes.Has(n) || it == e->instantiated_from.end()) return CUDA_ERROR_INVALID_VALUE;
  size_t index = static_cast<size_t>(it - e->instantiated_from.begin());
  if ((*e->nodes)[index].type != CU_GRAPH_NODE_TYPE_KERNEL) return CUDA_ERROR_INVALID_VALUE;
  NodeData data;
  if ((r = KernelNodeData(params, &data)) != CUDA_SUCCESS) return r;
  auto nodes = std::make_shared<std::vector<NodeData>>(*e->nodes);
  (*nodes)[index] = std::move(data);
  e->nodes = std::move(nodes);
  return CUDA_SUCCESS;
}

// Takes every node's parameters from `graph`, which must have the same
// topology: the same number of nodes, each of the same type with the same
// dependencies, paired in creation order.
CUresult cuGraphExecUpdate(CUgraphExec exec, CUgraph graph, CUgraphExecUpdateResultInfo* info) {
  std::lock_guard lock(D().mu);
  Context* ctx;
  CUresult r = UsableContext(&ctx);
  if (r != CUDA_SUCCESS) return r;
  GraphExec* e;
  Graph* g;
  if ((r = ExecOf(exec, &e)) != CUDA_SUCCESS || (r = GraphOf(graph, &g)) != CUDA_SUCCESS) return r;
  if (!info) return CUDA_ERROR_INVALID_VALUE;
  *info = CUgraphExecUpdateResultInfo{};
  auto fail = [&](CUgraphExecUpdateResult result, const GraphNode* node) {
    info->result = result;
    info->errorNode = reinterpret_cast<CUgraphNode>(const_cast<GraphNode*>(node));
    return CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE;
  };
  if (g->nodes.size() != e->nodes->size()) return fail(CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED, nullptr);
  for (size_t i = 0; i < g->nodes.size(); ++i) {
    const GraphNode* n = g->nodes[i].get();
    const NodeData& old = (*e->nodes)[i];
    if (n->dependencies != e->dependencies[i]) return fail(CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED, n);
    if (n->data.type != old.type) return fail(CU_GRAPH_EXEC_UPDATE_ERROR_NODE_TYPE_CHANGED, n);
    if (n->data.type == CU_GRAPH_NODE_TYPE_MEMCPY &&
        (n->data.copy_types[0] != old.copy_types[0] || n->data.copy_types[1] != old.copy_types[1])) {
      return fail(CU_GRAPH_EXEC_UPDATE_ERROR_PARAMETERS_CHANGED, n);
    }
  }
  auto nodes = std::make_shared<std::vector<NodeData>>();
  for (const auto& n : g->nodes) nodes->push_back(n->data);
  e->nodes = std::move(nodes);
  info->result = CU_GRAPH_EXEC_UPDATE_SUCCESS;
  return CUDA_SUCCESS;
}

}  // namespace fake
