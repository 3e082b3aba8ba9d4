// memcpy_2d: cudaMallocPitch, cudaMemcpy2D host to device, device to host,
// device to device (a sub-rectangle) and host to host, with host pitches that
// differ from the width and from the device pitch; cudaMemcpy2DAsync;
// cudaMemset2D and cudaMemset2DAsync on a sub-rectangle; a kernel that
// addresses the pitched rows. Padding bytes outside each row's width, on the
// host and on the device, must stay untouched. Catches pitch and width mixed
// up, rows copied contiguously, and writes past the width.
#include "test_util.h"

__global__ void scale2D(float* base, size_t pitch, int width, int height, float factor) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x < width && y < height) {
    float* row = reinterpret_cast<float*>(reinterpret_cast<char*>(base) + y * pitch);
    row[x] = __fmul_rn(row[x], factor);
  }
}

constexpr unsigned char kPad = 0xA5;

int main() {
  rtest::Rng rng = rtest::Init("memcpy_2d");
  rtest::Checksum sum;
  const int W = 333, H = 211;  // elements
  const size_t widthBytes = W * sizeof(float);

  float* d;
  size_t pitch = 0;
  CUDA_CHECK(cudaMallocPitch(reinterpret_cast<void**>(&d), &pitch, widthBytes, H));
  CHECKF(pitch >= widthBytes && pitch % sizeof(float) == 0, "cudaMallocPitch gave pitch %zu for width %zu", pitch,
         widthBytes);
  // Fill everything, padding included, so we can see what 2-D operations touch.
  CUDA_CHECK(cudaMemset(d, kPad, pitch * H));

  // Host source with its own pitch (7 floats of padding per row).
  const size_t srcPitch = (W + 7) * sizeof(float);
  std::vector<float> src((W + 7) * H, -1.0f);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) src[y * (W + 7) + x] = rng.Float(-100.f, 100.f);
  CUDA_CHECK(cudaMemcpy2D(d, pitch, src.data(), srcPitch, widthBytes, H, cudaMemcpyHostToDevice));

  // The device padding is untouched.
  std::vector<unsigned char> raw(pitch * H);
  CUDA_CHECK(cudaMemcpy(raw.data(), d, pitch * H, cudaMemcpyDeviceToHost));
  for (int y = 0; y < H; ++y) {
    rtest::ExpectBytes(raw.data() + y * pitch + widthBytes, pitch - widthBytes, kPad, "device row padding after cudaMemcpy2D H2D");
    CHECKF(std::memcmp(raw.data() + y * pitch, &src[y * (W + 7)], widthBytes) == 0, "row %d of cudaMemcpy2D H2D", y);
  }

  const float factor = rng.Float(-4.f, 4.f);
  scale2D<<<dim3(rtest::BlocksFor(W, 32), rtest::BlocksFor(H, 8)), dim3(32, 8)>>>(d, pitch, W, H, factor);
  CUDA_CHECK_LAUNCH();
  std::vector<float> want(W * H);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) want[y * W + x] = src[y * (W + 7) + x] * factor;

  // Back into a host buffer with yet another pitch; its padding stays.
  const int dstStride = W + 3;
  std::vector<float> dst(dstStride * H);
  std::memset(dst.data(), kPad, dst.size() * sizeof(float));
  CUDA_CHECK(cudaMemcpy2D(dst.data(), dstStride * sizeof(float), d, pitch, widthBytes, H, cudaMemcpyDeviceToHost));
  for (int y = 0; y < H; ++y) {
    rtest::ExpectEqual(&dst[y * dstStride], &want[y * W], W, "cudaMemcpy2D D2H after scale2D");
    rtest::ExpectBytes(&dst[y * dstStride + W], 3 * sizeof(float), kPad, "host row padding after cudaMemcpy2D D2H");
  }
  sum.AddVector(want);

  // A sub-rectangle, device to device, into a second pitched allocation.
  const int sx = 17, sy = 9, sw = 101, sh = 77, tx = 5, ty = 30;
  float* d2;
  size_t pitch2 = 0;
  CUDA_CHECK(cudaMallocPitch(reinterpret_cast<void**>(&d2), &pitch2, 200 * sizeof(float), 120));
  CUDA_CHECK(cudaMemset2D(d2, pitch2, 0, 200 * sizeof(float), 120));
  CUDA_CHECK(cudaMemcpy2D(reinterpret_cast<char*>(d2) + ty * pitch2 + tx * sizeof(float), pitch2,
                          reinterpret_cast<char*>(d) + sy * pitch + sx * sizeof(float), pitch, sw * sizeof(float), sh,
                          cudaMemcpyDeviceToDevice));
  std::vector<float> sub(200 * 120), wantSub(200 * 120, 0.0f);
  CUDA_CHECK(cudaMemcpy2D(sub.data(), 200 * sizeof(float), d2, pitch2, 200 * sizeof(float), 120, cudaMemcpyDeviceToHost));
  for (int y = 0; y < sh; ++y)
    for (int x = 0; x < sw; ++x) wantSub[(ty + y) * 200 + tx + x] = want[(sy + y) * W + sx + x];
  rtest::ExpectEqual(sub, wantSub, "cudaMemcpy2D D2D sub-rectangle");
  sum.AddVector(sub);

  // cudaMemset2D on a sub-rectangle: only those bytes change.
  CUDA_CHECK(cudaMemset2D(reinterpret_cast<char*>(d) + 3 * pitch + 10, pitch, 0x3C, 55, 40));
  CUDA_CHECK(cudaMemcpy(raw.data(), d, pitch * H, cudaMemcpyDeviceToHost));
  {
    std::vector<unsigned char> wantRaw(pitch * H, kPad);
    for (int y = 0; y < H; ++y) std::memcpy(wantRaw.data() + y * pitch, &want[y * W], widthBytes);
    for (int y = 3; y < 43; ++y) std::memset(wantRaw.data() + y * pitch + 10, 0x3C, 55);
    rtest::ExpectEqual(raw, wantRaw, "the pitched allocation after cudaMemset2D of a sub-rectangle");
  }

  // Async versions on a stream, host to host too.
  cudaStream_t s;
  CUDA_CHECK(cudaStreamCreate(&s));
  float* pinned;
  CUDA_CHECK(cudaMallocHost(&pinned, srcPitch * H));
  std::memcpy(pinned, src.data(), srcPitch * H);
  CUDA_CHECK(cudaMemcpy2DAsync(d, pitch, pinned, srcPitch, widthBytes, H, cudaMemcpyHostToDevice, s));
  CUDA_CHECK(cudaMemset2DAsync(d, pitch, 0, 8 * sizeof(float), H, s));
  CUDA_CHECK(cudaMemcpy2DAsync(pinned, srcPitch, d, pitch, widthBytes, H, cudaMemcpyDeviceToHost, s));
  CUDA_CHECK(cudaStreamSynchronize(s));
  std::vector<float> back(W * H), wantBack(W * H);
  CUDA_CHECK(cudaMemcpy2D(back.data(), widthBytes, pinned, srcPitch, widthBytes, H, cudaMemcpyHostToHost));
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) wantBack[y * W + x] = x < 8 ? 0.0f : src[y * (W + 7) + x];
  rtest::ExpectEqual(back, wantBack, "cudaMemcpy2DAsync H2D, cudaMemset2DAsync, D2H, then cudaMemcpy2D H2H");
  for (int y = 0; y < H; ++y)
    rtest::ExpectEqual(pinned + y * (W + 7) + W, &src[y * (W + 7) + W], 7, "pinned row padding after cudaMemcpy2DAsync D2H");
  sum.AddVector(back);

  CUDA_CHECK(cudaStreamDestroy(s));
  CUDA_CHECK(cudaFreeHost(pinned));
  CUDA_CHECK(cudaFree(d));
  CUDA_CHECK(cudaFree(d2));
  return rtest::Pass(sum);
}
