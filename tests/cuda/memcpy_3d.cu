// memcpy_3d: cudaMalloc3D and cudaMemcpy3D with linear memory: host volumes
// whose pitch and slice height differ from the device's, a kernel that
// takes a cudaPitchedPtr by value, sub-boxes copied device to device with
// source and destination positions, cudaMemcpy3DAsync and cudaMemset3D.
// Catches pitch, slice pitch (pitch * ysize), position and extent units mixed
// up, and copies that write outside the box.
#include <cstddef>

#include "memcpy_3d.h"
#include "test_util.h"

static_assert(sizeof(cudaPitchedPtr) == sizeof(PitchedPtrLayout) &&
                  offsetof(cudaPitchedPtr, pitch) == offsetof(PitchedPtrLayout, pitch) &&
                  offsetof(cudaPitchedPtr, ysize) == offsetof(PitchedPtrLayout, ysize),
              "cudaPitchedPtr layout");

__global__ void scale3D(cudaPitchedPtr p, int w, int h, int d, float factor) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  int y = blockIdx.y * blockDim.y + threadIdx.y;
  int z = blockIdx.z * blockDim.z + threadIdx.z;
  if (x < w && y < h && z < d) {
    char* slice = static_cast<char*>(p.ptr) + z * p.pitch * p.ysize;
    float* row = reinterpret_cast<float*>(slice + y * p.pitch);
    row[x] = __fadd_rn(__fmul_rn(row[x], factor), (float)z);
  }
}

int main() {
  rtest::Rng rng = rtest::Init("memcpy_3d");
  rtest::Checksum sum;
  const int W = 37, H = 19, D = 11;

  cudaPitchedPtr dev;
  CUDA_CHECK(cudaMalloc3D(&dev, make_cudaExtent(W * sizeof(float), H, D)));
  CHECKF(dev.pitch >= W * sizeof(float), "cudaMalloc3D pitch %zu", dev.pitch);
  CHECKF(dev.xsize == W * sizeof(float) && dev.ysize == static_cast<size_t>(H), "cudaMalloc3D xsize %zu ysize %zu",
         dev.xsize, dev.ysize);
  CUDA_CHECK(cudaMemset(dev.ptr, 0, dev.pitch * H * D));

  // Host volume: 5 floats of padding per row, 2 extra rows per slice.
  const int HW = W + 5, HH = H + 2;
  std::vector<float> host(HW * HH * D, -7.0f);
  for (int z = 0; z < D; ++z)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) host[(z * HH + y) * HW + x] = rng.Float(-50.f, 50.f);

  cudaMemcpy3DParms up = {};
  up.srcPtr = make_cudaPitchedPtr(host.data(), HW * sizeof(float), W, HH);
  up.dstPtr = dev;
  up.extent = make_cudaExtent(W * sizeof(float), H, D);
  up.kind = cudaMemcpyHostToDevice;
  CUDA_CHECK(cudaMemcpy3D(&up));

  const float factor = rng.Float(-3.f, 3.f);
  scale3D<<<dim3(rtest::BlocksFor(W, 16), rtest::BlocksFor(H, 8), rtest::BlocksFor(D, 4)), dim3(16, 8, 4)>>>(dev, W, H,
                                                                                                        D, factor);
  CUDA_CHECK_LAUNCH();
  std::vector<float> want(W * H * D);
  for (int z = 0; z < D; ++z)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        float v = host[(z * HH + y) * HW + x] * factor;
        want[(z * H + y) * W + x] = v + static_cast<float>(z);
      }

  // Back into a host volume with another layout; padding stays.
  const int BW = W + 1, BH = H + 3;
  std::vector<float> back(BW * BH * D, 99.0f);
  cudaMemcpy3DParms down = {};
  down.srcPtr = dev;
  down.dstPtr = make_cudaPitchedPtr(back.data(), BW * sizeof(float), W, BH);
  down.extent = make_cudaExtent(W * sizeof(float), H, D);
  down.kind = cudaMemcpyDeviceToHost;
  CUDA_CHECK(cudaMemcpy3D(&down));
  for (int z = 0; z < D; ++z)
    for (int y = 0; y < BH; ++y)
      for (int x = 0; x < BW; ++x) {
        float got = back[(z * BH + y) * BW + x];
        float expect = (x < W && y < H) ? want[(z * H + y) * W + x] : 99.0f;
        CHECKF(std::memcmp(&got, &expect, sizeof got) == 0, "cudaMemcpy3D D2H at x=%d y=%d z=%d: %g, expected %g", x, y,
               z, got, expect);
      }
  sum.AddVector(want);

  // A sub-box, device to device, with positions (x in bytes for linear memory).
  cudaPitchedPtr dev2;
  const int W2 = 30, H2 = 25, D2 = 9;
  CUDA_CHECK(cudaMalloc3D(&dev2, make_cudaExtent(W2 * sizeof(float), H2, D2)));
  CUDA_CHECK(cudaMemset3D(dev2, 0, make_cudaExtent(W2 * sizeof(float), H2, D2)));
  const int sx = 3, sy = 4, sz = 2, bw = 20, bh = 12, bd = 6, tx = 7, ty = 10, tz = 1;
  cudaMemcpy3DParms box = {};
  box.srcPtr = dev;
  box.srcPos = make_cudaPos(sx * sizeof(float), sy, sz);
  box.dstPtr = dev2;
  box.dstPos = make_cudaPos(tx * sizeof(float), ty, tz);
  box.extent = make_cudaExtent(bw * sizeof(float), bh, bd);
  box.kind = cudaMemcpyDeviceToDevice;
  CUDA_CHECK(cudaMemcpy3D(&box));

  // cudaMemset3D on part of the second volume, async copy back.
  cudaPitchedPtr corner = dev2;
  corner.ptr = static_cast<char*>(dev2.ptr) + 1 * dev2.pitch * dev2.ysize + 2 * dev2.pitch;  // z=1, y=2
  CUDA_CHECK(cudaMemset3D(corner, 0xFF, make_cudaExtent(4 * sizeof(float), 3, 2)));

  cudaStream_t s;
  CUDA_CHECK(cudaStreamCreate(&s));
  std::vector<float> vol2(W2 * H2 * D2, 1.0f);
  cudaMemcpy3DParms down2 = {};
  down2.srcPtr = dev2;
  down2.dstPtr = make_cudaPitchedPtr(vol2.data(), W2 * sizeof(float), W2, H2);
  down2.extent = make_cudaExtent(W2 * sizeof(float), H2, D2);
  down2.kind = cudaMemcpyDeviceToHost;
  CUDA_CHECK(cudaMemcpy3DAsync(&down2, s));
  CUDA_CHECK(cudaStreamSynchronize(s));
  std::vector<float> want2(W2 * H2 * D2, 0.0f);
  for (int z = 0; z < bd; ++z)
    for (int y = 0; y < bh; ++y)
      for (int x = 0; x < bw; ++x)
        want2[((tz + z) * H2 + ty + y) * W2 + tx + x] = want[((sz + z) * H + sy + y) * W + sx + x];
  float allOnes;
  std::memset(&allOnes, 0xFF, sizeof allOnes);
  for (int z = 1; z < 3; ++z)
    for (int y = 2; y < 5; ++y)
      for (int x = 0; x < 4; ++x) want2[(z * H2 + y) * W2 + x] = allOnes;
  CHECKF(std::memcmp(vol2.data(), want2.data(), want2.size() * sizeof(float)) == 0,
         "second volume after a D2D sub-box copy and cudaMemset3D differs from the reference");
  sum.AddVector(vol2);

  CUDA_CHECK(cudaStreamDestroy(s));
  CUDA_CHECK(cudaFree(dev.ptr));
  CUDA_CHECK(cudaFree(dev2.ptr));
  return rtest::Pass(sum);
}
