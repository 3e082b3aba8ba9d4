// templates: templated kernels with several instantiations: type and value
// template parameters (a negative one too), function objects by value (one of
// them an empty struct), a variadic kernel (with an empty pack as well), and a
// block size as a template parameter sizing static shared memory. Each
// instantiation is a different kernel with its own mangled name and parameter
// layout; a remoting layer that keys kernels or layouts wrongly mixes them up.
#include "templates.h"
#include "test_util.h"

template <typename T, int K>
__global__ void scaleAdd(const T* in, T* out, T factor, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = in[i] * factor + T(K);
}

template <typename T, typename Op>
__global__ void transform(const T* in, T* out, int n, Op op) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = op(in[i]);
}

template <typename... Ts>
__global__ void sumArgs(long long* out, Ts... args) {
  if (threadIdx.x == 0) *out = (0LL + ... + static_cast<long long>(args));
}

template <int BLOCK>
__global__ void blockSum(const int* in, int* out, int n) {
  __shared__ int partial[BLOCK];
  int i = blockIdx.x * BLOCK + threadIdx.x;
  partial[threadIdx.x] = i < n ? in[i] : 0;
  __syncthreads();
  for (int stride = BLOCK / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = partial[0];
}

template <typename T>
static T* ToDevice(const std::vector<T>& h) {
  T* d;
  CUDA_CHECK(cudaMalloc(&d, h.size() * sizeof(T)));
  CUDA_CHECK(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}

template <typename T>
static std::vector<T> FromDevice(const T* d, size_t n) {
  std::vector<T> h(n);
  CUDA_CHECK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
  return h;
}

// Runs scaleAdd<T, K> and checks it; floating types use the fused
// multiply-add nvcc emits for a*b+c, integers wrap as on the GPU.
template <typename T, int K>
static void RunScaleAdd(rtest::Rng& rng, rtest::Checksum& sum, const char* what, int n) {
  std::vector<T> in(n), want(n);
  for (auto& x : in) x = static_cast<T>(rng.Int(-1000, 1000)) / T(4);
  T factor = static_cast<T>(rng.Int(-9, 9));
  T* dIn = ToDevice(in);
  T* dOut;
  CUDA_CHECK(cudaMalloc(&dOut, n * sizeof(T)));
  scaleAdd<T, K><<<rtest::BlocksFor(n, 128), 128>>>(dIn, dOut, factor, n);
  CUDA_CHECK_LAUNCH();
  std::vector<T> out = FromDevice(dOut, n);
  // Inputs are multiples of 1/4 with small factors: every result is exact
  // in any order, so the check can be exact for every type.
  for (int i = 0; i < n; ++i) want[i] = in[i] * factor + T(K);
  rtest::ExpectEqual(out, want, what);
  sum.AddVector(out);
  CUDA_CHECK(cudaFree(dIn));
  CUDA_CHECK(cudaFree(dOut));
}

template <typename T, typename Op>
static void RunTransform(rtest::Rng& rng, rtest::Checksum& sum, const char* what, int n, Op op) {
  std::vector<T> in(n), want(n);
  for (auto& x : in) x = static_cast<T>(rng.Int(-2000, 2000)) / T(2);
  T* dIn = ToDevice(in);
  T* dOut;
  CUDA_CHECK(cudaMalloc(&dOut, n * sizeof(T)));
  transform<T, Op><<<rtest::BlocksFor(n, 64), 64>>>(dIn, dOut, n, op);
  CUDA_CHECK_LAUNCH();
  std::vector<T> out = FromDevice(dOut, n);
  for (int i = 0; i < n; ++i) want[i] = op(in[i]);
  rtest::ExpectEqual(out, want, what);
  sum.AddVector(out);
  CUDA_CHECK(cudaFree(dIn));
  CUDA_CHECK(cudaFree(dOut));
}

template <int BLOCK>
static void RunBlockSum(rtest::Rng& rng, rtest::Checksum& sum, const char* what, int n) {
  std::vector<int> in(n);
  rng.FillInts(in, -100000, 100000);
  const int blocks = rtest::BlocksFor(n, BLOCK);
  std::vector<int> want(blocks, 0);
  for (int i = 0; i < n; ++i) want[i / BLOCK] += in[i];
  int* dIn = ToDevice(in);
  int* dOut;
  CUDA_CHECK(cudaMalloc(&dOut, blocks * sizeof(int)));
  blockSum<BLOCK><<<blocks, BLOCK>>>(dIn, dOut, n);
  CUDA_CHECK_LAUNCH();
  std::vector<int> out = FromDevice(dOut, blocks);
  rtest::ExpectEqual(out, want, what);
  sum.AddVector(out);
  CUDA_CHECK(cudaFree(dIn));
  CUDA_CHECK(cudaFree(dOut));
}

int main() {
  rtest::Rng rng = rtest::Init("templates");
  rtest::Checksum sum;

  RunScaleAdd<int, 3>(rng, sum, "scaleAdd<int, 3>", 10007);
  RunScaleAdd<float, -1>(rng, sum, "scaleAdd<float, -1>", 20011);
  RunScaleAdd<double, 7>(rng, sum, "scaleAdd<double, 7>", 30011);
  RunScaleAdd<long long, 100>(rng, sum, "scaleAdd<long long, 100>", 999);

  RunTransform<int>(rng, sum, "transform<int, Square>", 40009, Square{});
  RunTransform<int>(rng, sum, "transform<int, AddConst>", 40009, AddConst{static_cast<int>(rng.Int(-500, 500))});
  RunTransform<float>(rng, sum, "transform<float, Clamp>", 40009, Clamp{rng.Float(-400.f, -1.f), rng.Float(1.f, 400.f)});

  long long* dSum;
  CUDA_CHECK(cudaMalloc(&dSum, sizeof(long long)));
  {
    int a = static_cast<int>(rng.U32());
    short b = static_cast<short>(rng.Int(-32768, 32767));
    long long c = static_cast<long long>(rng.Next() >> 2);
    char d = static_cast<char>(rng.Int(-128, 127));
    sumArgs<int, short, long long, char><<<1, 32>>>(dSum, a, b, c, d);
    CUDA_CHECK_LAUNCH();
    long long got;
    CUDA_CHECK(cudaMemcpy(&got, dSum, sizeof got, cudaMemcpyDeviceToHost));
    long long want = 0LL + a + b + c + d;
    CHECKF(got == want, "sumArgs<int, short, long long, char> gave %lld, expected %lld", got, want);
    sum.AddValue(got);

    unsigned char e = static_cast<unsigned char>(rng.Int(0, 255));
    sumArgs<unsigned char><<<1, 1>>>(dSum, e);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(&got, dSum, sizeof got, cudaMemcpyDeviceToHost));
    CHECKF(got == e, "sumArgs<unsigned char> gave %lld, expected %d", got, e);
    sum.AddValue(got);

    CUDA_CHECK(cudaMemset(dSum, 0x5a, sizeof(long long)));
    sumArgs<><<<1, 1>>>(dSum);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(&got, dSum, sizeof got, cudaMemcpyDeviceToHost));
    CHECKF(got == 0, "sumArgs<> gave %lld, expected 0", got);
  }
  CUDA_CHECK(cudaFree(dSum));

  RunBlockSum<64>(rng, sum, "blockSum<64>", 100003);
  RunBlockSum<256>(rng, sum, "blockSum<256>", 100003);

  return rtest::Pass(sum);
}
