// The shared types (device_description.h, module_description.h,
// graph_node_spec.h) to and from their wire tables, in one place for both
// sides. Decoding checks what the flatbuffers verifier cannot: a peer's
// table may be well-formed and still describe nothing sensible.
#pragma once

#include "common/status.h"
#include "protocol/graph_node_spec.h"
#include "protocol/module_description.h"
#include "protocol/rcuda_generated.h"

namespace rcuda {

flatbuffers::Offset<wire::Memcpy3D> ToWire(flatbuffers::FlatBufferBuilder& b, GraphNodeSpec::Direction direction,
                                           const Copy3D& copy, uint64_t stream, uint64_t pending);
flatbuffers::Offset<wire::Memset3D> ToWire(flatbuffers::FlatBufferBuilder& b, const Set3D& set, uint64_t stream);
flatbuffers::Offset<wire::GraphNode> ToWire(flatbuffers::FlatBufferBuilder& b, const GraphNodeSpec& node);
flatbuffers::Offset<wire::FunctionInfo> ToWire(flatbuffers::FlatBufferBuilder& b, const FunctionDescription& f);

Copy3D FromWire(const wire::Memcpy3D& copy);
Set3D FromWire(const wire::Memset3D& set);
// A memcpy or memset node that moves nothing becomes an empty node (it keeps
// the graph's shape). Corruption: an unknown type or direction, a memcpy or
// memset node without its table, a memset element of other than 1, 2 or 4
// bytes.
Status FromWire(const wire::GraphNode& node, GraphNodeSpec* spec);
// Corruption: parameter offsets and sizes of different counts.
Status FromWire(const wire::FunctionInfo& info, FunctionDescription* f);

}  // namespace rcuda
