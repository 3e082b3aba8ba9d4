// texture_filter: CUDA arrays, texture and surface objects, as image and
// stencil codes use them. A 2-D float image in a CUDA array is filtered by a
// 3x3 box through tex2D with point filtering: once with unnormalized
// coordinates and clamp addressing, once with normalized coordinates and wrap
// addressing; a uchar4 image with border addressing; a surface read and
// written in place. Each result is checked exactly against a host reference.
// Array round trips (host -> array -> host and device -> array -> device,
// with pitches and offsets into the array), cudaArrayGetInfo and
// cudaGetChannelDesc, and refusals (a copy beyond the array, and through
// rcuda a made-up array and a made-up texture object) after which the
// program goes on working.
#include <cstdlib>
#include <vector>

#include "test_util.h"

__global__ void boxClamp(cudaTextureObject_t tex, float* out, int w, int h) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  float sum = 0.0f;
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx) sum = __fadd_rn(sum, tex2D<float>(tex, x + dx + 0.5f, y + dy + 0.5f));
  out[y * w + x] = __fdiv_rn(sum, 9.0f);
}

__global__ void boxWrap(cudaTextureObject_t tex, float* out, int w, int h) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  float sum = 0.0f;
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx)
      sum = __fadd_rn(sum, tex2D<float>(tex, __fdiv_rn(x + dx + 0.5f, float(w)), __fdiv_rn(y + dy + 0.5f, float(h))));
  out[y * w + x] = __fdiv_rn(sum, 9.0f);
}

__global__ void boxBorderU4(cudaTextureObject_t tex, uchar4* out, int w, int h) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  int s[4] = {0, 0, 0, 0};
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx) {
      uchar4 v = tex2D<uchar4>(tex, x + dx + 0.5f, y + dy + 0.5f);
      s[0] += v.x, s[1] += v.y, s[2] += v.z, s[3] += v.w;
    }
  out[y * w + x] = make_uchar4(s[0] / 9, s[1] / 9, s[2] / 9, s[3] / 9);
}

__global__ void surfaceScale(cudaSurfaceObject_t surf, int w, int h, float factor) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  float v = surf2Dread<float>(surf, x * 4, y);
  surf2Dwrite(__fmul_rn(v, factor), surf, x * 4, y);
}

namespace {

constexpr int W = 37, H = 23;

int Clamp(int v, int n) { return v < 0 ? 0 : v >= n ? n - 1 : v; }
int Wrap(int v, int n) { return ((v % n) + n) % n; }

cudaTextureObject_t MakeTexture(cudaArray_t array, cudaTextureAddressMode mode, bool normalized) {
  cudaResourceDesc res{};
  res.resType = cudaResourceTypeArray;
  res.res.array.array = array;
  cudaTextureDesc td{};
  td.addressMode[0] = td.addressMode[1] = mode;
  td.filterMode = cudaFilterModePoint;
  td.readMode = cudaReadModeElementType;
  td.normalizedCoords = normalized ? 1 : 0;
  cudaTextureObject_t tex = 0;
  CUDA_CHECK(cudaCreateTextureObject(&tex, &res, &td, nullptr));
  return tex;
}

void FilterFloat(rtest::Rng& rng, rtest::Checksum& sum) {
  std::vector<float> image(W * H);
  for (auto& v : image) v = rng.Float(-10.f, 10.f);
  cudaChannelFormatDesc desc = cudaCreateChannelDesc<float>();
  cudaArray_t array;
  CUDA_CHECK(cudaMallocArray(&array, &desc, W, H));
  CUDA_CHECK(cudaMemcpy2DToArray(array, 0, 0, image.data(), W * sizeof(float), W * sizeof(float), H,
                                 cudaMemcpyHostToDevice));
  float* out;
  CUDA_CHECK(cudaMalloc(&out, W * H * sizeof(float)));
  const dim3 block(8, 8), grid(rtest::BlocksFor(W, 8), rtest::BlocksFor(H, 8));
  for (int pass = 0; pass < 2; ++pass) {
    const bool wrap = pass == 1;
    cudaTextureObject_t tex = MakeTexture(array, wrap ? cudaAddressModeWrap : cudaAddressModeClamp, wrap);
    cudaResourceDesc back{};
    CUDA_CHECK(cudaGetTextureObjectResourceDesc(&back, tex));
    CHECKF(back.resType == cudaResourceTypeArray && back.res.array.array == array, "the texture's resource");
    if (wrap) {
      boxWrap<<<grid, block>>>(tex, out, W, H);
    } else {
      boxClamp<<<grid, block>>>(tex, out, W, H);
    }
    CUDA_CHECK_LAUNCH();
    std::vector<float> got(W * H);
    CUDA_CHECK(cudaMemcpy(got.data(), out, got.size() * sizeof(float), cudaMemcpyDeviceToHost));
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        float s = 0.0f;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            int sx = wrap ? Wrap(x + dx, W) : Clamp(x + dx, W), sy = wrap ? Wrap(y + dy, H) : Clamp(y + dy, H);
            s += image[sy * W + sx];
          }
        float want = s / 9.0f;
        CHECKF(got[y * W + x] == want, "%s box at (%d, %d): %.9g, expected %.9g", wrap ? "wrap" : "clamp", x, y,
               got[y * W + x], want);
      }
    sum.AddVector(got);
    CUDA_CHECK(cudaDestroyTextureObject(tex));
  }
  CUDA_CHECK(cudaFree(out));
  CUDA_CHECK(cudaFreeArray(array));
}

void FilterUchar4(rtest::Rng& rng, rtest::Checksum& sum) {
  std::vector<uchar4> image(W * H);
  for (auto& v : image) v = make_uchar4(rng.U32() & 0xff, rng.U32() & 0xff, rng.U32() & 0xff, rng.U32() & 0xff);
  cudaChannelFormatDesc desc = cudaCreateChannelDesc<uchar4>();
  cudaArray_t array;
  CUDA_CHECK(cudaMallocArray(&array, &desc, W, H));
  CUDA_CHECK(cudaMemcpy2DToArray(array, 0, 0, image.data(), W * sizeof(uchar4), W * sizeof(uchar4), H,
                                 cudaMemcpyHostToDevice));
  cudaTextureObject_t tex = MakeTexture(array, cudaAddressModeBorder, false);  // border color 0
  uchar4* out;
  CUDA_CHECK(cudaMalloc(&out, W * H * sizeof(uchar4)));
  boxBorderU4<<<dim3(rtest::BlocksFor(W, 8), rtest::BlocksFor(H, 8)), dim3(8, 8)>>>(tex, out, W, H);
  CUDA_CHECK_LAUNCH();
  std::vector<uchar4> got(W * H);
  CUDA_CHECK(cudaMemcpy(got.data(), out, got.size() * sizeof(uchar4), cudaMemcpyDeviceToHost));
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      int s[4] = {0, 0, 0, 0};
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          int sx = x + dx, sy = y + dy;
          if (sx < 0 || sy < 0 || sx >= W || sy >= H) continue;
          const uchar4& v = image[sy * W + sx];
          s[0] += v.x, s[1] += v.y, s[2] += v.z, s[3] += v.w;
        }
      const uchar4& g = got[y * W + x];
      CHECKF(g.x == s[0] / 9 && g.y == s[1] / 9 && g.z == s[2] / 9 && g.w == s[3] / 9,
             "uchar4 border box at (%d, %d)", x, y);
    }
  sum.Add(got.data(), got.size() * sizeof(uchar4));
  CUDA_CHECK(cudaDestroyTextureObject(tex));
  CUDA_CHECK(cudaFree(out));
  CUDA_CHECK(cudaFreeArray(array));
}

void SurfaceInPlace(rtest::Rng& rng, rtest::Checksum& sum) {
  std::vector<float> image(W * H);
  for (auto& v : image) v = rng.Float(-10.f, 10.f);
  cudaChannelFormatDesc desc = cudaCreateChannelDesc<float>();
  cudaArray_t array;
  CUDA_CHECK(cudaMallocArray(&array, &desc, W, H, cudaArraySurfaceLoadStore));
  CUDA_CHECK(cudaMemcpy2DToArray(array, 0, 0, image.data(), W * sizeof(float), W * sizeof(float), H,
                                 cudaMemcpyHostToDevice));
  cudaResourceDesc res{};
  res.resType = cudaResourceTypeArray;
  res.res.array.array = array;
  cudaSurfaceObject_t surf = 0;
  CUDA_CHECK(cudaCreateSurfaceObject(&surf, &res));
  const float factor = rng.Float(-3.f, 3.f);
  surfaceScale<<<dim3(rtest::BlocksFor(W, 8), rtest::BlocksFor(H, 8)), dim3(8, 8)>>>(surf, W, H, factor);
  CUDA_CHECK_LAUNCH();
  std::vector<float> got(W * H);
  CUDA_CHECK(cudaMemcpy2DFromArray(got.data(), W * sizeof(float), array, 0, 0, W * sizeof(float), H,
                                   cudaMemcpyDeviceToHost));
  for (int i = 0; i < W * H; ++i) CHECKF(got[i] == image[i] * factor, "surface element %d", i);
  sum.AddVector(got);
  CUDA_CHECK(cudaDestroySurfaceObject(surf));
  CUDA_CHECK(cudaFreeArray(array));
}

// Host -> array -> host and device -> array -> device, into a rectangle at
// an offset, with pitches that are not the width; the rest stays.
void RoundTrips(rtest::Rng& rng, rtest::Checksum& sum) {
  const int AW = 50, AH = 30, RW = 17, RH = 11, X0 = 9, Y0 = 5;
  cudaChannelFormatDesc desc = cudaCreateChannelDesc<int>();
  cudaArray_t array;
  CUDA_CHECK(cudaMallocArray(&array, &desc, AW, AH));
  cudaChannelFormatDesc got_desc{};
  cudaExtent extent{};
  unsigned flags = 99;
  CUDA_CHECK(cudaArrayGetInfo(&got_desc, &extent, &flags, array));
  CHECKF(got_desc.x == 32 && got_desc.y == 0 && got_desc.f == cudaChannelFormatKindSigned, "cudaArrayGetInfo desc");
  CHECKF(extent.width == AW && extent.height == AH && extent.depth == 0 && flags == 0, "cudaArrayGetInfo extent");
  CUDA_CHECK(cudaGetChannelDesc(&got_desc, array));
  CHECKF(got_desc.x == 32 && got_desc.f == cudaChannelFormatKindSigned, "cudaGetChannelDesc");

  std::vector<int> base(AW * AH);
  rng.FillInts(base, -1000000, 1000000);
  CUDA_CHECK(cudaMemcpy2DToArray(array, 0, 0, base.data(), AW * 4, AW * 4, AH, cudaMemcpyHostToDevice));
  // A host rectangle with 5 ints of padding per row.
  const int SP = RW + 5;
  std::vector<int> rect(SP * RH);
  rng.FillInts(rect, -1000000, 1000000);
  CUDA_CHECK(cudaMemcpy2DToArray(array, X0 * 4, Y0, rect.data(), SP * 4, RW * 4, RH, cudaMemcpyHostToDevice));
  std::vector<int> want = base;
  for (int y = 0; y < RH; ++y)
    for (int x = 0; x < RW; ++x) want[(Y0 + y) * AW + X0 + x] = rect[y * SP + x];
  // The whole array back into rows 3 ints wider than the array's.
  const int DP = AW + 3;
  std::vector<int> back(DP * AH, 7);
  CUDA_CHECK(cudaMemcpy2DFromArray(back.data(), DP * 4, array, 0, 0, AW * 4, AH, cudaMemcpyDeviceToHost));
  for (int y = 0; y < AH; ++y)
    for (int x = 0; x < DP; ++x)
      CHECKF(back[y * DP + x] == (x < AW ? want[y * AW + x] : 7), "host round trip at (%d, %d)", x, y);

  // Device side: a pitched buffer's rectangle into the array on a stream,
  // then the array's rectangle back into another pitched buffer.
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  int *d1, *d2;
  size_t p1 = 0, p2 = 0;
  CUDA_CHECK(cudaMallocPitch(reinterpret_cast<void**>(&d1), &p1, RW * 4, RH));
  CUDA_CHECK(cudaMallocPitch(reinterpret_cast<void**>(&d2), &p2, AW * 4, AH));
  std::vector<int> drect(RW * RH);
  rng.FillInts(drect, -1000000, 1000000);
  CUDA_CHECK(cudaMemcpy2D(d1, p1, drect.data(), RW * 4, RW * 4, RH, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy2DToArrayAsync(array, 2 * 4, 1, d1, p1, RW * 4, RH, cudaMemcpyDeviceToDevice, stream));
  CUDA_CHECK(cudaMemset2D(d2, p2, 0, AW * 4, AH));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  CUDA_CHECK(cudaMemcpy2DFromArrayAsync(d2, p2, array, 0, 0, AW * 4, AH, cudaMemcpyDeviceToDevice, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  for (int y = 0; y < RH; ++y)
    for (int x = 0; x < RW; ++x) want[(1 + y) * AW + 2 + x] = drect[y * RW + x];
  std::vector<int> dback(AW * AH);
  CUDA_CHECK(cudaMemcpy2D(dback.data(), AW * 4, d2, p2, AW * 4, AH, cudaMemcpyDeviceToHost));
  for (int i = 0; i < AW * AH; ++i) CHECKF(dback[i] == want[i], "device round trip at %d", i);
  sum.AddVector(dback);

  // Beyond the array: one byte too wide, one row too many.
  CUDA_EXPECT(cudaMemcpy2DToArray(array, 4, 0, base.data(), AW * 4, AW * 4, 1, cudaMemcpyHostToDevice),
              cudaErrorInvalidValue);
  CUDA_EXPECT(cudaMemcpy2DFromArray(back.data(), AW * 4, array, 0, 1, AW * 4, AH, cudaMemcpyDeviceToHost),
              cudaErrorInvalidValue);
  CUDA_EXPECT(cudaGetLastError(), cudaErrorInvalidValue);  // reported once, then cleared
  CUDA_CHECK(cudaGetLastError());

  CUDA_CHECK(cudaStreamDestroy(stream));
  CUDA_CHECK(cudaFree(d1));
  CUDA_CHECK(cudaFree(d2));
  CUDA_CHECK(cudaFreeArray(array));

  // A layered 3-D array: created, described, freed.
  cudaArray_t layered;
  CUDA_CHECK(cudaMalloc3DArray(&layered, &desc, make_cudaExtent(8, 4, 3), cudaArrayLayered));
  CUDA_CHECK(cudaArrayGetInfo(nullptr, &extent, &flags, layered));
  CHECKF(extent.width == 8 && extent.height == 4 && extent.depth == 3 && flags == cudaArrayLayered,
         "cudaArrayGetInfo of a layered array");
  CUDA_CHECK(cudaFreeArray(layered));
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("texture_filter");
  rtest::Checksum sum;
  FilterFloat(rng, sum);
  FilterUchar4(rng, sum);
  SurfaceInPlace(rng, sum);
  RoundTrips(rng, sum);
  // Through rcuda (which checks every handle) a made-up array or texture
  // object is refused; the native runtime may not look before it uses one.
  if (std::getenv("RCUDA_DEVICE_COUNT")) {
    int host = 0;
    cudaArray_t fake = reinterpret_cast<cudaArray_t>(static_cast<uintptr_t>(0x5eed0000));
    CUDA_EXPECT(cudaMemcpy2DToArray(fake, 0, 0, &host, 4, 4, 1, cudaMemcpyHostToDevice),
                cudaErrorInvalidResourceHandle);
    CUDA_EXPECT(cudaFreeArray(fake), cudaErrorInvalidResourceHandle);
    CUDA_EXPECT(cudaDestroyTextureObject(0x5eed), cudaErrorInvalidValue);
    CUDA_EXPECT(cudaGetLastError(), cudaErrorInvalidValue);
    // The session goes on.
    FilterFloat(rng, sum);
  }
  CUDA_CHECK(cudaDeviceSynchronize());
  return rtest::Pass(sum);
}
