// symbols: __device__ and __constant__ variables, initialized and not, of
// scalar, array and struct type: cudaMemcpyToSymbol/FromSymbol (whole, with
// offsets, device-to-device), cudaGetSymbolAddress/Size, and kernels that read
// and write them. Catches variables that are not registered, not initialized
// from the module's image, offsets ignored, symbol addresses that are not
// usable as device pointers, and kernels that do not see values copied in.
#include "symbols.h"
#include "test_util.h"

__device__ int devCounter;                               // zero-initialized
__device__ int devInit[8] = {3, 1, 4, 1, 5, 9, 2, 6};    // initialized
__device__ double devScale = 2.5;                        // initialized scalar
__device__ float devTable[kTable];                       // written by a kernel
__constant__ float cCoeffs[kCoeffs];                     // set by the host
__constant__ int cInit[4] = {10, 20, 30, 40};            // initialized constant
__constant__ LinearParams cParams;                       // struct constant

// out[i] = in[i] * cCoeffs[(i * stride) % kCoeffs] + bias, counting positive
// results in devCounter.
__global__ void applyCoeffs(const float* in, float* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    float v = __fmaf_rn(in[i], cCoeffs[(i * cParams.stride) % kCoeffs], cParams.bias);
    out[i] = v;
    if (v > 0.0f) atomicAdd(&devCounter, 1);
  }
}

// devTable[i] = i * devScale + cInit[i % 4] + devInit[i % 8]
__global__ void fillTable() {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < kTable) devTable[i] = (float)(__dadd_rn(__dmul_rn((double)i, devScale), (double)(cInit[i % 4] + devInit[i % 8])));
}

// Through a pointer obtained with cudaGetSymbolAddress.
__global__ void scaleThroughPointer(float* table, int n, float factor) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) table[i] = __fmul_rn(table[i], factor);
}

int main() {
  rtest::Rng rng = rtest::Init("symbols");
  rtest::Checksum sum;

  // Initial values come from the module image.
  {
    int init[8], cinit[4], counter = -1;
    double scale = 0;
    CUDA_CHECK(cudaMemcpyFromSymbol(init, devInit, sizeof init));
    CUDA_CHECK(cudaMemcpyFromSymbol(cinit, cInit, sizeof cinit));
    CUDA_CHECK(cudaMemcpyFromSymbol(&counter, devCounter, sizeof counter));
    CUDA_CHECK(cudaMemcpyFromSymbol(&scale, devScale, sizeof scale));
    const int wantInit[8] = {3, 1, 4, 1, 5, 9, 2, 6};
    const int wantCInit[4] = {10, 20, 30, 40};
    rtest::ExpectEqual(init, wantInit, 8, "initial devInit");
    rtest::ExpectEqual(cinit, wantCInit, 4, "initial cInit");
    CHECKF(counter == 0, "initial devCounter is %d, expected 0", counter);
    CHECKF(scale == 2.5, "initial devScale is %g, expected 2.5", scale);
    // With an offset: elements 5..7 of devInit.
    int tail[3];
    CUDA_CHECK(cudaMemcpyFromSymbol(tail, devInit, sizeof tail, 5 * sizeof(int)));
    rtest::ExpectEqual(tail, wantInit + 5, 3, "devInit[5..7] read with an offset");
  }

  // Sizes and addresses.
  {
    size_t size = 0;
    CUDA_CHECK(cudaGetSymbolSize(&size, devTable));
    CHECKF(size == sizeof(float) * kTable, "cudaGetSymbolSize(devTable) = %zu", size);
    CUDA_CHECK(cudaGetSymbolSize(&size, cParams));
    CHECKF(size == sizeof(LinearParams), "cudaGetSymbolSize(cParams) = %zu", size);
    CUDA_CHECK(cudaGetSymbolSize(&size, devScale));
    CHECKF(size == sizeof(double), "cudaGetSymbolSize(devScale) = %zu", size);
    void* a = nullptr;
    void* b = nullptr;
    CUDA_CHECK(cudaGetSymbolAddress(&a, devTable));
    CUDA_CHECK(cudaGetSymbolAddress(&b, devInit));
    CHECKF(a != nullptr && b != nullptr && a != b, "symbol addresses %p and %p", a, b);
  }

  // Constants set by the host (whole, then a part with an offset) and read
  // by a kernel.
  const int n = 200003;
  std::vector<float> in(n), out(n), want(n);
  rng.FillFloats(in, -10.f, 10.f);
  float *dIn, *dOut;
  CUDA_CHECK(cudaMalloc(&dIn, n * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&dOut, n * sizeof(float)));
  CUDA_CHECK(cudaMemcpy(dIn, in.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  std::vector<float> coeffs(kCoeffs);
  rng.FillFloats(coeffs, -2.f, 2.f);
  CUDA_CHECK(cudaMemcpyToSymbol(cCoeffs, coeffs.data(), kCoeffs * sizeof(float)));
  std::vector<float> patch(5);
  rng.FillFloats(patch, 5.f, 6.f);
  CUDA_CHECK(cudaMemcpyToSymbol(cCoeffs, patch.data(), 5 * sizeof(float), 10 * sizeof(float)));
  std::copy(patch.begin(), patch.end(), coeffs.begin() + 10);
  {
    std::vector<float> back(kCoeffs);
    CUDA_CHECK(cudaMemcpyFromSymbol(back.data(), cCoeffs, kCoeffs * sizeof(float)));
    rtest::ExpectEqual(back, coeffs, "cCoeffs after a whole write and a write at offset 40");
  }
  LinearParams params{rng.Float(-1.f, 1.f), static_cast<int>(rng.Int(1, 13))};
  CUDA_CHECK(cudaMemcpyToSymbol(cParams, &params, sizeof params));

  for (int round = 0; round < 2; ++round) {
    int zero = 0;
    CUDA_CHECK(cudaMemcpyToSymbol(devCounter, &zero, sizeof zero));
    applyCoeffs<<<rtest::BlocksFor(n, 256), 256>>>(dIn, dOut, n);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(out.data(), dOut, n * sizeof(float), cudaMemcpyDeviceToHost));
    int counter = -1, wantCounter = 0;
    CUDA_CHECK(cudaMemcpyFromSymbol(&counter, devCounter, sizeof counter));
    for (int i = 0; i < n; ++i) {
      want[i] = std::fma(in[i], coeffs[(i * params.stride) % kCoeffs], params.bias);
      wantCounter += want[i] > 0.0f;
    }
    rtest::ExpectEqual(out, want, round == 0 ? "applyCoeffs" : "applyCoeffs after new constants");
    CHECKF(counter == wantCounter, "devCounter is %d, expected %d", counter, wantCounter);
    sum.AddVector(out);
    sum.AddValue(counter);
    // New constants for the second round, copied device to device.
    rng.FillFloats(coeffs, -3.f, 3.f);
    float* dCoeffs;
    CUDA_CHECK(cudaMalloc(&dCoeffs, kCoeffs * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(dCoeffs, coeffs.data(), kCoeffs * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpyToSymbol(cCoeffs, dCoeffs, kCoeffs * sizeof(float), 0, cudaMemcpyDeviceToDevice));
    CUDA_CHECK(cudaFree(dCoeffs));
  }

  // A kernel writes a __device__ array; read it whole, with an offset, and
  // through its symbol address; modify it through that address.
  {
    double scale = rng.Double(0.5, 4.0);
    CUDA_CHECK(cudaMemcpyToSymbol(devScale, &scale, sizeof scale));
    fillTable<<<rtest::BlocksFor(kTable, 128), 128>>>();
    CUDA_CHECK_LAUNCH();
    const int wantInit[8] = {3, 1, 4, 1, 5, 9, 2, 6};
    const int wantCInit[4] = {10, 20, 30, 40};
    std::vector<float> table(kTable), wantTable(kTable);
    for (int i = 0; i < kTable; ++i)
      wantTable[i] = static_cast<float>(static_cast<double>(i) * scale + static_cast<double>(wantCInit[i % 4] + wantInit[i % 8]));
    CUDA_CHECK(cudaMemcpyFromSymbol(table.data(), devTable, kTable * sizeof(float)));
    rtest::ExpectEqual(table, wantTable, "devTable written by fillTable");

    std::vector<float> middle(100);
    CUDA_CHECK(cudaMemcpyFromSymbol(middle.data(), devTable, 100 * sizeof(float), 333 * sizeof(float)));
    rtest::ExpectEqual(middle.data(), wantTable.data() + 333, 100, "devTable[333..432] read with an offset");

    float* tablePtr = nullptr;
    CUDA_CHECK(cudaGetSymbolAddress(reinterpret_cast<void**>(&tablePtr), devTable));
    std::vector<float> viaPtr(kTable);
    CUDA_CHECK(cudaMemcpy(viaPtr.data(), tablePtr, kTable * sizeof(float), cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(viaPtr, wantTable, "devTable read through cudaGetSymbolAddress");

    const float factor = rng.Float(-2.f, 2.f);
    scaleThroughPointer<<<rtest::BlocksFor(kTable - 7, 64), 64>>>(tablePtr + 7, kTable - 7, factor);
    CUDA_CHECK_LAUNCH();
    for (int i = 7; i < kTable; ++i) wantTable[i] = wantTable[i] * factor;
    CUDA_CHECK(cudaMemcpyFromSymbol(table.data(), devTable, kTable * sizeof(float)));
    rtest::ExpectEqual(table, wantTable, "devTable after scaleThroughPointer(symbol address + 7)");
    sum.AddVector(table);

    // Copy device to host from the symbol into a device buffer, D2D.
    float* dCopy;
    CUDA_CHECK(cudaMalloc(&dCopy, kTable * sizeof(float)));
    CUDA_CHECK(cudaMemcpyFromSymbol(dCopy, devTable, kTable * sizeof(float), 0, cudaMemcpyDeviceToDevice));
    std::fill(viaPtr.begin(), viaPtr.end(), 0.f);
    CUDA_CHECK(cudaMemcpy(viaPtr.data(), dCopy, kTable * sizeof(float), cudaMemcpyDeviceToHost));
    rtest::ExpectEqual(viaPtr, wantTable, "devTable copied device to device");
    CUDA_CHECK(cudaFree(dCopy));
  }

  CUDA_CHECK(cudaFree(dIn));
  CUDA_CHECK(cudaFree(dOut));
  return rtest::Pass(sum);
}
