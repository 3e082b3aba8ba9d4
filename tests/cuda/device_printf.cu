// device_printf: a kernel's printf reaches the program's own stdout at the
// synchronization points CUDA documents (cudaDeviceSynchronize,
// cudaStreamSynchronize, cudaEventSynchronize, a blocking cudaMemcpy), after
// the host lines printed before the synchronization and before those printed
// after it. Through rcuda the session worker captures the driver's output
// and the client writes it (docs/design.md, "Device output").
//
// The program cannot see its own stdout: the checks are outside, in
// tests/integration/check_device_printf.sh (against device_printf.expected,
// and for --flood against the session's cap) and tests/gpu/extra.d
// (native and remote output identical). Unlike the other programs, stdout
// therefore holds more than CHECKSUM and PASS, and the values are fixed
// (no seed): the expected output is the same every run.
//
//   device_printf             the ordered rounds below
//   device_printf --flood N   one kernel prints N lines of 64 bytes, then a
//                             round shows the session goes on
#include <cstring>

#include "test_util.h"

// One thread prints, so that the order of the lines is the program's: the
// order of several threads' printf is not defined.
__global__ void printValues(const int* values, int n, int round) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  for (int i = 0; i < n; ++i) printf("device round %d: values[%d] = %d\n", round, i, values[i]);
}

// The conversions device printf supports most often.
__global__ void printMixed(int a, unsigned b, float f, char c) {
  printf("device mixed: %d %u %x %.3f %c %s\n", a, b, b, f, c, "text");
}

// `lines` lines of exactly 64 bytes each.
__global__ void printFlood(int lines) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  for (int i = 0; i < lines; ++i) printf("flood line %06d: 0123456789abcdefghijklmnopqrstuvwxyz01234567\n", i);
}

namespace {

constexpr int kValues = 6;

void Rounds(const int* d_values, rtest::Checksum* sum) {
  std::printf("host: before the first launch\n");
  printValues<<<2, 32>>>(d_values, 4, 1);
  CUDA_CHECK_LAUNCH();
  std::printf("host: launched round 1, not synchronized\n");
  CUDA_CHECK(cudaDeviceSynchronize());
  std::printf("host: after cudaDeviceSynchronize\n");

  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  printValues<<<1, 1, 0, stream>>>(d_values + 2, 3, 2);
  CUDA_CHECK_LAUNCH();
  std::printf("host: launched round 2 on a stream\n");
  CUDA_CHECK(cudaStreamSynchronize(stream));
  std::printf("host: after cudaStreamSynchronize\n");

  cudaEvent_t done;
  CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
  printMixed<<<1, 1, 0, stream>>>(-42, 3000000000u, 2.5f, 'Z');
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaEventRecord(done, stream));
  std::printf("host: launched the mixed line, event recorded\n");
  CUDA_CHECK(cudaEventSynchronize(done));
  std::printf("host: after cudaEventSynchronize\n");

  printValues<<<1, 1>>>(d_values, kValues, 3);
  CUDA_CHECK_LAUNCH();
  std::printf("host: launched round 3 before a copy\n");
  int back[kValues] = {};
  CUDA_CHECK(cudaMemcpy(back, d_values, sizeof back, cudaMemcpyDeviceToHost));
  std::printf("host: after a blocking cudaMemcpy\n");
  sum->Add(back, sizeof back);

  CUDA_CHECK(cudaEventDestroy(done));
  CUDA_CHECK(cudaStreamDestroy(stream));
}

void Flood(const int* d_values, int lines, rtest::Checksum* sum) {
  std::printf("host: before the flood\n");
  printFlood<<<1, 1>>>(lines);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaDeviceSynchronize());
  std::printf("host: after the flood\n");
  // The session goes on, and its output with it.
  printValues<<<1, 1>>>(d_values, 2, 9);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaDeviceSynchronize());
  std::printf("host: the session goes on\n");
  sum->AddValue<int>(lines);
}

}  // namespace

int main(int argc, char** argv) {
  rtest::Init("device_printf");
  int flood = 0;
  if (argc == 3 && std::strcmp(argv[1], "--flood") == 0) flood = std::atoi(argv[2]);
  if (argc != 1 && flood <= 0) rtest::Fail("usage: device_printf [--flood LINES]");
  int values[kValues];
  for (int i = 0; i < kValues; ++i) values[i] = i * i * 11 - 7;
  int* d_values = nullptr;
  CUDA_CHECK(cudaMalloc(&d_values, sizeof values));
  CUDA_CHECK(cudaMemcpy(d_values, values, sizeof values, cudaMemcpyHostToDevice));
  rtest::Checksum sum;
  if (flood) {
    Flood(d_values, flood, &sum);
  } else {
    Rounds(d_values, &sum);
  }
  CUDA_CHECK(cudaFree(d_values));
  return rtest::Pass(sum);
}
