// TEST EQUIPMENT: host versions of gpu_blastp's kernels for rcuda's test
// backend (tests/fake_driver/host_kernel_api.h), so CI can run gpu_blastp --mode gpu
// through rcuda-run and rcuda-server without a GPU. They call the same
// shared code (two_hit.h, xdrop_prelim.h) as the CUDA kernels, and read
// the score matrix from the program's __constant__ table as it uploaded
// it. Nothing this computes is a GPU result.
#include "tests/fake_driver/host_kernel_api.h"
#include "two_hit.h"
#include "xdrop_prelim.h"

namespace {

using gpu_blastp::ExtensionResult;
using gpu_blastp::PrelimResult;
using gpu_blastp::ScanParams;
using gpu_blastp::UngappedHsp;

constexpr int kInvalidValue = 1;
constexpr int kIllegalAddress = 700;
// Must match gpu_scan.cu's kPrelimWidth: the overflow behaviour is part of
// what the kernel computes.
constexpr int32_t kPrelimWidth = 256;

struct HostEmit {
  UngappedHsp* out;
  uint32_t capacity;
  unsigned int* count;
  uint32_t subject;
  void operator()(const ExtensionResult& r) {
    const unsigned int i = (*count)++;
    if (i < capacity) out[i] = UngappedHsp{subject, r.q_start, r.s_start, r.length, r.score};
  }
};

const int8_t* Matrix(const rcuda_test_launch* launch) {
  return static_cast<const int8_t*>(launch->find_symbol(launch->ctx, "gpu_blastp_matrix"));
}

bool InDevice(const rcuda_test_launch* launch, const void* p, size_t bytes) {
  return bytes == 0 || launch->is_device_range(launch->ctx, p, bytes);
}

}  // namespace

// gpu_blastp::ScanKernel(const uint8_t*, const uint64_t*, uint32_t, uint32_t,
//   const uint8_t*, int32_t, ScanParams, UngappedHsp*, uint32_t, unsigned int*)
RCUDA_TEST_KERNEL("_ZN10gpu_blastp10ScanKernelEPKhPKmjjS1_iNS_10ScanParamsEPNS_11UngappedHspEjPj", scan_kernel) {
  using rcuda::testk::Param;
  const auto residues = Param<const uint8_t*>(launch, 0);
  const auto starts = Param<const uint64_t*>(launch, 1);
  const auto first_subject = Param<uint32_t>(launch, 2);
  const auto subject_count = Param<uint32_t>(launch, 3);
  const auto query = Param<const uint8_t*>(launch, 4);
  const auto query_length = Param<int32_t>(launch, 5);
  const auto p = Param<ScanParams>(launch, 6);
  const auto out = Param<UngappedHsp*>(launch, 7);
  const auto capacity = Param<uint32_t>(launch, 8);
  const auto count = Param<unsigned int*>(launch, 9);
  const int8_t* matrix = Matrix(launch);
  if (!matrix) return kInvalidValue;
  if (!InDevice(launch, count, sizeof(unsigned int)) || !InDevice(launch, out, size_t{capacity} * sizeof(UngappedHsp)) ||
      !InDevice(launch, starts + first_subject, (size_t{subject_count} + 1) * sizeof(uint64_t)) ||
      !InDevice(launch, query, query_length > 0 ? static_cast<size_t>(query_length) : 0))
    return kIllegalAddress;
  if (query_length < 3) return 0;
  for (uint32_t k = 0; k < subject_count; ++k) {
    const uint32_t subject_index = first_subject + k;
    const uint64_t start = starts[subject_index];
    const int32_t subject_length = static_cast<int32_t>(starts[subject_index + 1] - start);
    if (subject_length < 3) continue;
    if (!InDevice(launch, residues + start, static_cast<size_t>(subject_length))) return kIllegalAddress;
    HostEmit emit{out, capacity, count, subject_index};
    const int32_t diagonals = query_length + subject_length - 5;
    for (int32_t t = 0; t < diagonals; ++t) {
      gpu_blastp::WalkDiagonal<false>(t - (query_length - 3), matrix, query, query_length, residues + start,
                                      subject_length, p, emit);
    }
  }
  return 0;
}

// gpu_blastp::PrelimKernel(const uint8_t*, const uint64_t*, const uint8_t*,
//   int32_t, const UngappedHsp*, uint32_t, int32_t, int32_t, int32_t, PrelimResult*)
RCUDA_TEST_KERNEL("_ZN10gpu_blastp12PrelimKernelEPKhPKmS1_iPKNS_11UngappedHspEjiiiPNS_12PrelimResultE",
                  prelim_kernel) {
  using rcuda::testk::Param;
  const auto residues = Param<const uint8_t*>(launch, 0);
  const auto starts = Param<const uint64_t*>(launch, 1);
  const auto query = Param<const uint8_t*>(launch, 2);
  const auto query_length = Param<int32_t>(launch, 3);
  const auto hsps = Param<const UngappedHsp*>(launch, 4);
  const auto count = Param<uint32_t>(launch, 5);
  const auto gap_open = Param<int32_t>(launch, 6);
  const auto gap_extend = Param<int32_t>(launch, 7);
  const auto xdrop = Param<int32_t>(launch, 8);
  const auto out = Param<PrelimResult*>(launch, 9);
  const int8_t* matrix = Matrix(launch);
  if (!matrix) return kInvalidValue;
  if (!InDevice(launch, hsps, size_t{count} * sizeof(UngappedHsp)) ||
      !InDevice(launch, out, size_t{count} * sizeof(PrelimResult)) ||
      !InDevice(launch, query, query_length > 0 ? static_cast<size_t>(query_length) : 0))
    return kIllegalAddress;
  const uint64_t threads = uint64_t{launch->grid.x} * launch->block.x;
  int32_t scratch[2 * kPrelimWidth];
  for (uint64_t i = 0; i < count && i < threads; ++i) {
    const UngappedHsp h = hsps[i];
    if (!InDevice(launch, starts + h.subject, 2 * sizeof(uint64_t))) return kIllegalAddress;
    const uint64_t start = starts[h.subject];
    const int32_t subject_length = static_cast<int32_t>(starts[h.subject + 1] - start);
    if (!InDevice(launch, residues + start, static_cast<size_t>(subject_length))) return kIllegalAddress;
    out[i] = gpu_blastp::PrelimExtend(matrix, query, query_length, residues + start, subject_length, h, gap_open,
                                      gap_extend, xdrop, scratch, kPrelimWidth);
  }
  return 0;
}

RCUDA_TEST_KERNELS_PLUGIN()
