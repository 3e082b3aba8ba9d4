// vector_add: the simplest end-to-end path, over sizes that are not
// multiples of the block size, several launches per size, results left on the
// device between launches, a grid-stride kernel with a fixed small grid and a
// 2-D grid. Catches: wrong grid/block dimensions, off-by-one bounds, lost or
// reordered launches, parameter mix-ups between consecutive launches.
#include "test_util.h"

__global__ void vecAdd(const float* a, const float* b, float* c, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}

// y = a*x + y with an explicit fused multiply-add, so the CPU reference
// (std::fma) is bit-exact.
__global__ void saxpy(float a, const float* x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = __fmaf_rn(a, x[i], y[i]);
}

// A grid-stride loop with integer arithmetic: any grid shape must cover all
// elements exactly once.
__global__ void affineInt(int* data, long long n, int mul, int add) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
       i += (long long)gridDim.x * blockDim.x) {
    data[i] = data[i] * mul + add;
  }
}

// 2-D grid over a row-major matrix: out[r][c] = in[r][c] + r * 1000 + c.
__global__ void addCoords(const int* in, int* out, int rows, int cols) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  int r = blockIdx.y * blockDim.y + threadIdx.y;
  if (r < rows && c < cols) out[r * cols + c] = in[r * cols + c] + r * 1000 + c;
}

int main() {
  rtest::Rng rng = rtest::Init("vector_add");
  rtest::Checksum sum;

  const int sizes[] = {1, 31, 255, 257, 1000, 4099, 100003, 1000001};
  for (int n : sizes) {
    std::vector<float> a(n), b(n), c(n), want(n);
    rng.FillFloats(a, -100.f, 100.f);
    rng.FillFloats(b, -100.f, 100.f);
    float *da, *db, *dc;
    CUDA_CHECK(cudaMalloc(&da, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&db, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&dc, n * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(da, a.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(db, b.data(), n * sizeof(float), cudaMemcpyHostToDevice));

    // Block sizes that do not divide n, one launch each, results chained on
    // the device: c = a + b, then c = s1*a + c, then c = s2*b + c.
    const int block = (n % 3 == 0) ? 128 : 256;
    vecAdd<<<rtest::BlocksFor(n, block), block>>>(da, db, dc, n);
    CUDA_CHECK_LAUNCH();
    const float s1 = rng.Float(-2.f, 2.f), s2 = rng.Float(-2.f, 2.f);
    saxpy<<<rtest::BlocksFor(n, 96), 96>>>(s1, da, dc, n);
    CUDA_CHECK_LAUNCH();
    saxpy<<<rtest::BlocksFor(n, 1024), 1024>>>(s2, db, dc, n);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(c.data(), dc, n * sizeof(float), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; ++i) {
      float v = a[i] + b[i];
      v = std::fma(s1, a[i], v);
      want[i] = std::fma(s2, b[i], v);
    }
    char what[64];
    std::snprintf(what, sizeof what, "vecAdd+saxpy n=%d", n);
    rtest::ExpectEqual(c, want, what);
    sum.AddVector(c);
    CUDA_CHECK(cudaFree(da));
    CUDA_CHECK(cudaFree(db));
    CUDA_CHECK(cudaFree(dc));
  }

  // Grid-stride loop: a fixed grid of 37 blocks of 128 threads over an odd
  // size, applied three times with different parameters.
  {
    const long long n = 777777;
    std::vector<int> h(n), want(n);
    rng.FillInts(h, -1000000, 1000000);
    want = h;
    int* d;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(d, h.data(), n * sizeof(int), cudaMemcpyHostToDevice));
    for (int round = 0; round < 3; ++round) {
      int mul = static_cast<int>(rng.Int(-7, 7)), add = static_cast<int>(rng.Int(-1000, 1000));
      affineInt<<<37, 128>>>(d, n, mul, add);
      CUDA_CHECK_LAUNCH();
      for (auto& x : want) x = static_cast<int>(static_cast<unsigned>(x) * static_cast<unsigned>(mul) + static_cast<unsigned>(add));
    }
    CUDA_CHECK(cudaMemcpy(h.data(), d, n * sizeof(int), cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(h, want, "affineInt grid-stride");
    sum.AddVector(h);
    CUDA_CHECK(cudaFree(d));
  }

  // 2-D grid with a 2-D block, both dimensions ragged.
  {
    const int rows = 523, cols = 397;
    std::vector<int> in(rows * cols), out(rows * cols), want(rows * cols);
    rng.FillInts(in, -100000, 100000);
    int *din, *dout;
    CUDA_CHECK(cudaMalloc(&din, in.size() * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dout, out.size() * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(din, in.data(), in.size() * sizeof(int), cudaMemcpyHostToDevice));
    dim3 block(32, 8);
    dim3 grid(rtest::BlocksFor(cols, block.x), rtest::BlocksFor(rows, block.y));
    addCoords<<<grid, block>>>(din, dout, rows, cols);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(out.data(), dout, out.size() * sizeof(int), cudaMemcpyDeviceToHost));
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) want[r * cols + c] = in[r * cols + c] + r * 1000 + c;
    rtest::ExpectEqual(out, want, "addCoords 2-D grid");
    sum.AddVector(out);
    CUDA_CHECK(cudaFree(din));
    CUDA_CHECK(cudaFree(dout));
  }

  CUDA_CHECK(cudaDeviceSynchronize());
  return rtest::Pass(sum);
}
