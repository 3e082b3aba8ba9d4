// The GPU side of gpu_blastp: the scan and the preliminary gapped extension.
//
// The scan: one thread walks one diagonal of one query-subject pair
// (two_hit.h's WalkDiagonal, the same code the CPU tests run): a running
// sum of three BLOSUM62 entries finds word hits scoring >= T, and the
// two-hit rule and ungapped X-drop extension follow on that diagonal. The
// work is dense (every cell of the query x database matrix is visited),
// which suits a GPU: no lookup table, no random access, and every thread of
// a warp does the same thing at the same time.
//
// Only simple runtime calls are used (cudaMalloc, cudaMemcpy,
// cudaMemcpyToSymbol, cudaMemset, <<<>>> on the default stream,
// cudaDeviceSynchronize, cudaGetLastError, cudaGetDeviceProperties,
// cudaFree), so that rcuda can carry the program unmodified.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "blosum62.h"
#include "scan.h"
#include "two_hit.h"
#include "xdrop_prelim.h"

// The score matrix in constant memory, at global scope so its device name
// is plainly "gpu_blastp_matrix" (test_kernels.cc looks it up by that name).
__constant__ int8_t gpu_blastp_matrix[gpu_blastp::kMatrixStride * gpu_blastp::kMatrixStride];

namespace gpu_blastp {

// The kernels have external linkage in a named namespace, so their mangled
// names are stable: test_kernels.cc registers host versions under them.

namespace {

constexpr int kBlockThreads = 256;
// Query and subject are staged in shared memory when they fit (48 KiB of
// static shared memory at most, no opt-in attribute needed); longer ones
// are read from global memory, with the same results.
constexpr int kQueryCapacity = 16384;
constexpr int kSubjectCapacity = 16384;
// Subjects per launch: bounds a launch's run time and its HSP output.
constexpr uint64_t kBatchResidues = 64ull << 20;

struct DeviceEmit {
  UngappedHsp* out;
  uint32_t capacity;
  unsigned int* count;
  uint32_t subject;
  __host__ __device__ void operator()(const ExtensionResult& r) {
#if defined(__CUDA_ARCH__)
    const unsigned int i = atomicAdd(count, 1u);
    if (i < capacity) out[i] = UngappedHsp{subject, r.q_start, r.s_start, r.length, r.score};
#endif
  }
};

}  // namespace

// The preliminary gapped extension: one thread per ungapped HSP, its DP
// rows in a fixed circular buffer (kPrelimWidth columns, local memory).
// A wider band is reported as overflow and redone on the CPU.
constexpr int32_t kPrelimWidth = 256;

__global__ void PrelimKernel(const uint8_t* __restrict__ residues, const uint64_t* __restrict__ starts,
                             const uint8_t* __restrict__ query, int32_t query_length,
                             const UngappedHsp* __restrict__ hsps, uint32_t count, int32_t gap_open,
                             int32_t gap_extend, int32_t xdrop, PrelimResult* out) {
  __shared__ int8_t matrix[kMatrixStride * kMatrixStride];
  for (int i = threadIdx.x; i < kMatrixStride * kMatrixStride; i += blockDim.x) matrix[i] = gpu_blastp_matrix[i];
  __syncthreads();
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= count) return;
  int32_t scratch[2 * kPrelimWidth];
  const UngappedHsp h = hsps[i];
  const uint64_t start = starts[h.subject];
  const int32_t subject_length = static_cast<int32_t>(starts[h.subject + 1] - start);
  out[i] = PrelimExtend(matrix, query, query_length, residues + start, subject_length, h, gap_open, gap_extend, xdrop,
                        scratch, kPrelimWidth);
}

__global__ void ScanKernel(const uint8_t* __restrict__ residues, const uint64_t* __restrict__ starts,
                           uint32_t first_subject, uint32_t subject_count, const uint8_t* __restrict__ query,
                           int32_t query_length, ScanParams p, UngappedHsp* out, uint32_t capacity,
                           unsigned int* count) {
  __shared__ int8_t matrix[kMatrixStride * kMatrixStride];
  __shared__ uint8_t query_stage[kQueryCapacity];
  __shared__ uint8_t subject_stage[kSubjectCapacity];
  for (int i = threadIdx.x; i < kMatrixStride * kMatrixStride; i += blockDim.x) matrix[i] = gpu_blastp_matrix[i];
  const bool query_staged = query_length <= kQueryCapacity;
  if (query_staged)
    for (int i = threadIdx.x; i < query_length; i += blockDim.x) query_stage[i] = query[i];
  const uint8_t* q = query_staged ? query_stage : query;

  for (uint32_t k = blockIdx.x; k < subject_count; k += gridDim.x) {
    const uint32_t subject_index = first_subject + k;
    const uint64_t start = starts[subject_index];
    const int32_t subject_length = static_cast<int32_t>(starts[subject_index + 1] - start);
    const bool subject_staged = subject_length <= kSubjectCapacity;
    __syncthreads();  // the previous subject's walks are done with the stage
    if (subject_staged)
      for (int i = threadIdx.x; i < subject_length; i += blockDim.x) subject_stage[i] = residues[start + i];
    __syncthreads();
    const uint8_t* s = subject_staged ? subject_stage : residues + start;
    if (subject_length < 3 || query_length < 3) continue;
    DeviceEmit emit{out, capacity, count, subject_index};
    const int32_t diagonals = query_length + subject_length - 5;
    for (int32_t t = threadIdx.x; t < diagonals; t += blockDim.x) {
      const int32_t d = t - (query_length - 3);
      if (d < 0) {
        WalkDiagonal<true>(d, matrix, q, query_length, s, subject_length, p, emit);
      } else {
        WalkDiagonal<false>(d, matrix, q, query_length, s, subject_length, p, emit);
      }
    }
  }
}

namespace {

Status CudaStatus(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return Status::Ok();
  return Status::Error(std::string(what) + ": " + cudaGetErrorString(e) + " (CUDA error " + std::to_string(static_cast<int>(e)) + ")");
}

#define GB_CUDA(call)                                   \
  do {                                                  \
    Status status_ = CudaStatus((call), #call);         \
    if (!status_.ok()) return status_;                  \
  } while (0)

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

class CudaScanner : public GpuScanner {
 public:
  ~CudaScanner() override {
    cudaFree(residues_);
    cudaFree(starts_);
    cudaFree(query_);
    cudaFree(out_);
    cudaFree(count_);
    cudaFree(prelim_);
  }

  Status Init(const SequenceDb& db) {
    db_ = &db;
    int devices = 0;
    GB_CUDA(cudaGetDeviceCount(&devices));
    if (devices < 1) return Status::Error("no CUDA device");
    cudaDeviceProp prop;
    GB_CUDA(cudaGetDeviceProperties(&prop, 0));
    name_ = prop.name;
    multiprocessors_ = prop.multiProcessorCount;
    const auto t = std::chrono::steady_clock::now();
    int8_t matrix[kMatrixStride * kMatrixStride];
    FillPaddedMatrix(matrix);
    GB_CUDA(cudaMemcpyToSymbol(gpu_blastp_matrix, matrix, sizeof(matrix)));
    // One byte of slack so an empty database still gets a valid pointer.
    GB_CUDA(cudaMalloc(&residues_, db.total_residues() + 1));
    GB_CUDA(cudaMalloc(&starts_, (db.size() + 1) * sizeof(uint64_t)));
    if (db.total_residues())
      GB_CUDA(cudaMemcpy(residues_, db.residues(), db.total_residues(), cudaMemcpyHostToDevice));
    GB_CUDA(cudaMemcpy(starts_, db.starts(), (db.size() + 1) * sizeof(uint64_t), cudaMemcpyHostToDevice));
    GB_CUDA(cudaMalloc(&count_, sizeof(unsigned int)));
    GB_CUDA(Reserve(1u << 20));
    upload_seconds_ = Since(t);
    return Status::Ok();
  }

  Status Scan(const uint8_t* query, int32_t query_length, const ScanParams& p, std::vector<UngappedHsp>* hsps,
              ScanStats* stats) override {
    if (p.word_size != 3) return Status::Error("the scan supports words of 3 only");
    const auto t0 = std::chrono::steady_clock::now();
    hsps->clear();
    stats->upload_seconds = upload_seconds_;
    upload_seconds_ = 0;  // counted once, with the first query
    if (query_length > query_capacity_) {
      cudaFree(query_);
      query_ = nullptr;
      GB_CUDA(cudaMalloc(&query_, query_length));
      query_capacity_ = query_length;
    }
    if (query_length > 0) GB_CUDA(cudaMemcpy(query_, query, query_length, cudaMemcpyHostToDevice));
    query_length_ = query_length;

    const uint64_t n = db_->size();
    for (uint64_t first = 0; first < n;) {
      // A batch of whole subjects of about kBatchResidues residues.
      uint64_t last = first;
      while (last < n && (last == first || db_->starts()[last + 1] - db_->starts()[first] <= kBatchResidues)) ++last;
      const uint32_t count = static_cast<uint32_t>(last - first);
      for (;;) {
        GB_CUDA(cudaMemset(count_, 0, sizeof(unsigned int)));
        const uint32_t blocks = std::min<uint32_t>(count, static_cast<uint32_t>(multiprocessors_) * 8);
        const auto tk = std::chrono::steady_clock::now();
        ScanKernel<<<blocks, kBlockThreads>>>(residues_, starts_, static_cast<uint32_t>(first), count, query_,
                                              query_length, p, out_, capacity_, count_);
        GB_CUDA(cudaGetLastError());
        GB_CUDA(cudaDeviceSynchronize());
        stats->device_seconds += Since(tk);
        unsigned int found = 0;
        GB_CUDA(cudaMemcpy(&found, count_, sizeof(found), cudaMemcpyDeviceToHost));
        if (found > capacity_) {
          // The output was too small: grow it and run the batch again (the
          // kernel is a pure function of its inputs, so this is safe).
          GB_CUDA(Reserve(found + found / 4));
          continue;
        }
        const size_t before = hsps->size();
        hsps->resize(before + found);
        if (found)
          GB_CUDA(cudaMemcpy(hsps->data() + before, out_, found * sizeof(UngappedHsp), cudaMemcpyDeviceToHost));
        break;
      }
      first = last;
    }
    std::sort(hsps->begin(), hsps->end(), UngappedHspLess);
    stats->hsps = hsps->size();
    stats->seconds = Since(t0);
    return Status::Ok();
  }

  Status Prelim(const std::vector<UngappedHsp>& hsps, int32_t gap_open, int32_t gap_extend, int32_t xdrop,
                std::vector<PrelimResult>* out, double* device_seconds) override {
    const auto t0 = std::chrono::steady_clock::now();
    out->assign(hsps.size(), PrelimResult{});
    if (hsps.empty()) return Status::Ok();
    const uint32_t count = static_cast<uint32_t>(hsps.size());
    // The sorted HSPs go back to the device (the scan's output buffer holds
    // them in the GPU's order); the results come back in the same order.
    if (count > capacity_) GB_CUDA(Reserve(count));
    if (count > prelim_capacity_) {
      cudaFree(prelim_);
      prelim_ = nullptr;
      prelim_capacity_ = 0;
      GB_CUDA(cudaMalloc(&prelim_, static_cast<size_t>(count) * sizeof(PrelimResult)));
      prelim_capacity_ = count;
    }
    GB_CUDA(cudaMemcpy(out_, hsps.data(), static_cast<size_t>(count) * sizeof(UngappedHsp), cudaMemcpyHostToDevice));
    constexpr uint32_t kThreads = 128;
    PrelimKernel<<<(count + kThreads - 1) / kThreads, kThreads>>>(residues_, starts_, query_, query_length_, out_,
                                                                  count, gap_open, gap_extend, xdrop, prelim_);
    GB_CUDA(cudaGetLastError());
    GB_CUDA(cudaDeviceSynchronize());
    GB_CUDA(cudaMemcpy(out->data(), prelim_, static_cast<size_t>(count) * sizeof(PrelimResult),
                       cudaMemcpyDeviceToHost));
    *device_seconds = Since(t0);
    return Status::Ok();
  }

  std::string DeviceName() const override { return name_; }

 private:
  cudaError_t Reserve(uint32_t capacity) {
    cudaFree(out_);
    out_ = nullptr;
    capacity_ = 0;
    cudaError_t e = cudaMalloc(&out_, static_cast<size_t>(capacity) * sizeof(UngappedHsp));
    if (e == cudaSuccess) capacity_ = capacity;
    return e;
  }

  const SequenceDb* db_ = nullptr;
  std::string name_;
  int multiprocessors_ = 1;
  uint8_t* residues_ = nullptr;
  uint64_t* starts_ = nullptr;
  uint8_t* query_ = nullptr;
  int32_t query_capacity_ = 0;
  int32_t query_length_ = 0;
  PrelimResult* prelim_ = nullptr;
  uint32_t prelim_capacity_ = 0;
  UngappedHsp* out_ = nullptr;
  uint32_t capacity_ = 0;
  unsigned int* count_ = nullptr;
  double upload_seconds_ = 0;
};

}  // namespace

Status CreateGpuScanner(const SequenceDb& db, std::unique_ptr<GpuScanner>* out) {
  auto scanner = std::make_unique<CudaScanner>();
  Status s = scanner->Init(db);
  if (!s.ok()) return s;
  *out = std::move(scanner);
  return Status::Ok();
}

}  // namespace gpu_blastp
