// TEST EQUIPMENT: the numbers of the small Hopper-like GPU the fake CUDA
// driver describes. The device attributes (device_attributes.inc), the
// occupancy calls and the launch checks all derive from these, so that a
// program that sizes its work from one sees the others agree.
#pragma once

#include <cstdint>

namespace fake::gpu {

// The name rcuda-server's test backend has always shown (TEST EQUIPMENT).
inline constexpr char kName[] = "rcuda TEST device (host memory, not a GPU)";
inline constexpr int kDriverVersion = 13000;
inline constexpr int kMajor = 9, kMinor = 0;  // compute capability 9.0 (sm_90)
inline constexpr int kSmCount = 4;
inline constexpr int kWarpSize = 32;
inline constexpr int kMaxThreadsPerBlock = 1024;
inline constexpr int kMaxBlockDim[3] = {1024, 1024, 64};
inline constexpr int kMaxGridDim[3] = {2147483647, 65535, 65535};
inline constexpr int kMaxThreadsPerSm = 2048;
inline constexpr int kMaxBlocksPerSm = 32;
inline constexpr int kRegistersPerSm = 65536;
inline constexpr int kRegistersPerBlock = 65536;
inline constexpr int kRegisterAllocationUnit = 256;  // registers per warp come in these
inline constexpr int kSharedPerBlock = 48 << 10;               // without opting in
inline constexpr int kSharedPerBlockOptin = 227 << 10;         // cuFuncSetAttribute maximum
inline constexpr int kSharedPerSm = 228 << 10;
inline constexpr int kReservedSharedPerBlock = 1 << 10;        // the driver's own, per block
inline constexpr int kPortableClusterSize = 8;
inline constexpr int kNonPortableClusterSize = 16;
inline constexpr int kStreamPriorityLeast = 0;
inline constexpr int kStreamPriorityGreatest = -5;
inline constexpr int kPitchAlignment = 512;                    // cuMemAllocPitch
inline constexpr int kMaxPersistingL2 = 30 << 20;
// The largest access policy window (an H100's, cudaDevAttrMaxAccessPolicyWindowSize).
inline constexpr int kMaxAccessPolicyWindow = 134213632;

}  // namespace fake::gpu
