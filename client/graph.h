// CUDA graphs, kept on the client. A graph built with the graph API or by
// stream capture is a set of nodes here; instantiating it sends it whole to
// the server, which builds the driver graph, and each launch is one message.
// Host memory in a graph (memcpy nodes to or from host memory, host nodes)
// stays on the client: its host-to-device data travels with each launch and
// its device-to-host data and host calls come back over the host channel, in
// graph order.
#pragma once

#include <cuda_runtime_api.h>

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "client/host_channel.h"
#include "client/registry.h"
#include "client/session.h"
#include "client/user_object.h"
#include "protocol/launch_options.h"

namespace rcuda::client {

struct GraphObject;

struct GraphNodeObject {
  GraphObject* graph;
  cudaGraphNodeType type = cudaGraphNodeTypeEmpty;
  std::vector<GraphNodeObject*> dependencies;
  // Kernel: the arguments are copied (packed) when the node is made.
  const Function* function = nullptr;
  dim3 grid, block;
  unsigned shared_bytes = 0;
  std::vector<uint8_t> params;
  std::vector<void*> param_pointers;  // into params, for GetParams
  LaunchOptions launch;               // its launch attributes
  // Memcpy
  GraphNodeSpec::Direction direction = GraphNodeSpec::Direction::kDeviceToDevice;
  DeviceRegion dst, src;  // device sides
  HostRegion host;        // the host side of a host copy
  Extent extent;
  // Memset
  uint32_t value = 0;
  unsigned element_size = 1;
  // Host
  std::function<void()> host_fn;
  // Event record / wait
  cudaEvent_t event = nullptr;
  // In a clone: the node it was copied from (cudaGraphNodeFindInClone);
  // compared, never dereferenced.
  const GraphNodeObject* original = nullptr;
  // The program's parameters as it gave them, for the GetParams calls.
  cudaMemcpy3DParms memcpy_params{};
  cudaMemsetParams memset_params{};
  cudaHostNodeParams host_params{};
  // Memory allocation node: the allocation (client/graph_memory.h) and the
  // program's parameters; memory free node: the allocation it frees.
  uint64_t graph_memory = 0;
  cudaMemAllocNodeParams alloc_params{};
  // Child graph: the node's own copy of the graph it was added with, owned
  // by the node (deleted with it). Instantiation inlines its nodes.
  GraphObject* child = nullptr;
};

struct GraphObject {
  std::vector<std::unique_ptr<GraphNodeObject>> nodes;
  // The child graph node this graph belongs to; null for the program's own
  // graphs (only those may be destroyed with cudaGraphDestroy).
  const GraphNodeObject* owner = nullptr;
  // The references to user objects the graph holds (cudaGraphRetainUserObject);
  // copies of the graph hold their own.
  std::map<UserObject*, unsigned> user_objects;

  GraphNodeObject* Add(cudaGraphNodeType type, const cudaGraphNode_t* deps, size_t count);
  bool Owns(const GraphNodeObject* node) const;
  // Removes and deletes `node`, its edges and its child graph.
  void Remove(GraphNodeObject* node);
  // Whether it has memory allocation or free nodes (which CUDA does not
  // clone, nest in child graph nodes or update an instantiation with).
  bool HasMemoryNodes() const;
};

struct GraphExecObject {
  Session* session;
  uint64_t remote;
  // The graph as instantiated (or last updated): a copy the instantiation
  // owns, whose nodes' `original` are the program's nodes of the graph it
  // was instantiated from, so that the cudaGraphExec*SetParams calls find
  // them. Null for graphs with memory nodes (never copied): then `order`
  // holds the program's nodes themselves.
  GraphObject* snapshot = nullptr;
  std::vector<GraphNodeObject*> order;  // nodes in the order sent
  std::vector<HostRegion> inputs;       // host sources of host-to-device copies
  std::vector<uint64_t> channel_entries;
  unsigned long long flags = 0;  // cudaGraphExecGetFlags
  // Graph memory: the allocations it holds, those its launches leave live,
  // and those its free nodes end.
  std::vector<uint64_t> allocations, escaping, frees;
  // Without a snapshot (graph memory), the graph's user object references,
  // held by the instantiation itself.
  std::map<UserObject*, unsigned> user_objects;
};

// A stream capture in progress, shared by the streams that joined it.
struct Capture {
  GraphObject* graph;
  // False for cudaStreamBeginCaptureToGraph: the graph is the program's,
  // never deleted by the capture.
  bool owns_graph = true;
  cudaStreamCaptureMode mode;
  unsigned long long id;
  cudaError_t error = cudaSuccess;  // set when the capture is invalidated
};

struct StreamObject;
// Adds a node for an operation on a capturing stream, after the stream's
// current nodes, and makes it the stream's current node.
GraphNodeObject* CaptureNode(StreamObject* stream, cudaGraphNodeType type);

// Whether `edges` (may be null: all default) are all default edges: edge
// data (ports, programmatic dependent launch) is not carried, and a call
// that passes any is refused with cudaErrorNotSupported.
bool DefaultEdges(const cudaGraphEdgeData* edges, size_t count);

// Checked lookups of the handles the program passes in.
GraphObject* FindGraph(cudaGraph_t graph);
GraphNodeObject* FindNode(cudaGraphNode_t node);
GraphExecObject* FindExec(cudaGraphExec_t exec);
GraphObject* NewGraph();
void DeleteGraph(GraphObject* graph);
// A new graph with a copy of each node of `graph`, dependencies mapped to the
// copies (cudaGraphClone).
GraphObject* CloneGraph(const GraphObject& graph);

// Fills a kernel node from the program's parameters.
cudaError_t SetKernelNode(GraphNodeObject* node, const cudaKernelNodeParams& params);
// The cudaMemcpy3DParms of a 1-D copy of `bytes` (the *1D node calls).
cudaMemcpy3DParms LinearCopyParams(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
// Fills a memcpy node from cudaMemcpy3DParms (linear memory only).
cudaError_t SetMemcpyNode(GraphNodeObject* node, const cudaMemcpy3DParms& params);
cudaError_t SetMemsetNode(GraphNodeObject* node, const cudaMemsetParams& params);
// Makes `node` a child graph node holding a copy of `graph`.
void SetChildGraph(GraphNodeObject* node, const GraphObject& graph);
// Writes `graph` to `path` in Graphviz's DOT language (cudaGraphDebugDotPrint).
cudaError_t WriteDot(const GraphObject& graph, const char* path);

// Instantiates `graph` on the current device. `flags` are the
// cudaGraphInstantiateFlag* bits; device launch is refused.
cudaError_t Instantiate(GraphObject* graph, unsigned long long flags, GraphExecObject** exec);
cudaError_t Launch(GraphExecObject* exec, cudaStream_t stream, bool per_thread);
cudaError_t DestroyExec(GraphExecObject* exec);
cudaError_t UpdateExec(GraphExecObject* exec, GraphObject* graph);
// The instantiation's node for the program's `node`, and its index in the
// server's graph; null if it has none.
GraphNodeObject* ExecNode(GraphExecObject* exec, cudaGraphNode_t node, uint32_t* index);
// Changes the instantiation's copy of `node` (of type `type`) with `change`
// and updates the server's graph to match; nothing changes on failure.
cudaError_t ChangeExecNode(GraphExecObject* exec, cudaGraphNode_t node, cudaGraphNodeType type,
                           const std::function<cudaError_t(GraphNodeObject*)>& change);
// The kernel node's description for the server.
cudaError_t DescribeKernel(Session* session, const GraphNodeObject& node, GraphNodeSpec* out);

}  // namespace rcuda::client
