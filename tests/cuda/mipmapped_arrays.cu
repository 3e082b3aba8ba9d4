// mipmapped_arrays: mipmapped CUDA arrays as texture-level-of-detail codes
// use them. A 2-D float mipmapped array asks for more levels than its size
// allows (clamped, as the driver does); each level's extent is checked
// (cudaArrayGetInfo), filled and read back exactly; a texture object on the
// mipmapped array samples every level through tex2DLod with point filtering
// and is checked exactly against each level's data; a layered mipmapped
// array's levels keep their layers. Refusals: a level beyond the last, and
// through rcuda freeing a level alone and using a level once its mipmapped
// array is gone; the program goes on working.
#include <cstdlib>
#include <vector>

#include "test_util.h"

__global__ void lodSample(cudaTextureObject_t tex, float* out, int w, int h, float level) {
  int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  out[y * w + x] = tex2DLod<float>(tex, __fdiv_rn(x + 0.5f, float(w)), __fdiv_rn(y + 0.5f, float(h)), level);
}

namespace {

constexpr int W = 40, H = 24;
constexpr int kLevels = 6;  // 1 + floor(log2(40))

int LevelExtent(int n, int level) { return (n >> level) > 0 ? (n >> level) : 1; }

void Sampled(rtest::Rng& rng, rtest::Checksum& sum) {
  cudaChannelFormatDesc desc = cudaCreateChannelDesc<float>();
  cudaMipmappedArray_t mipmap;
  CUDA_CHECK(cudaMallocMipmappedArray(&mipmap, &desc, make_cudaExtent(W, H, 0), 10, 0));
  std::vector<std::vector<float>> levels(kLevels);
  for (int l = 0; l < kLevels; ++l) {
    const int w = LevelExtent(W, l), h = LevelExtent(H, l);
    cudaArray_t level;
    CUDA_CHECK(cudaGetMipmappedArrayLevel(&level, mipmap, l));
    cudaChannelFormatDesc got_desc{};
    cudaExtent extent{};
    unsigned flags = 99;
    CUDA_CHECK(cudaArrayGetInfo(&got_desc, &extent, &flags, level));
    CHECKF(got_desc.x == 32 && got_desc.f == cudaChannelFormatKindFloat, "level %d's channel format", l);
    CHECKF(int(extent.width) == w && int(extent.height) == h && extent.depth == 0,
           "level %d's extent %zux%zux%zu, expected %dx%dx0", l, extent.width, extent.height, extent.depth, w, h);
    levels[l].resize(size_t(w) * h);
    for (auto& v : levels[l]) v = rng.Float(-100.f, 100.f);
    CUDA_CHECK(cudaMemcpy2DToArray(level, 0, 0, levels[l].data(), w * sizeof(float), w * sizeof(float), h,
                                   cudaMemcpyHostToDevice));
    std::vector<float> back(size_t(w) * h);
    CUDA_CHECK(cudaMemcpy2DFromArray(back.data(), w * sizeof(float), level, 0, 0, w * sizeof(float), h,
                                     cudaMemcpyDeviceToHost));
    CHECKF(back == levels[l], "level %d's round trip", l);
  }
  cudaArray_t beyond = nullptr;
  CUDA_EXPECT(cudaGetMipmappedArrayLevel(&beyond, mipmap, kLevels), cudaErrorInvalidValue);
  CUDA_EXPECT(cudaGetLastError(), cudaErrorInvalidValue);

  cudaResourceDesc res{};
  res.resType = cudaResourceTypeMipmappedArray;
  res.res.mipmap.mipmap = mipmap;
  cudaTextureDesc td{};
  td.addressMode[0] = td.addressMode[1] = cudaAddressModeClamp;
  td.filterMode = cudaFilterModePoint;
  td.mipmapFilterMode = cudaFilterModePoint;
  td.readMode = cudaReadModeElementType;
  td.normalizedCoords = 1;
  td.maxMipmapLevelClamp = float(kLevels - 1);
  cudaTextureObject_t tex = 0;
  CUDA_CHECK(cudaCreateTextureObject(&tex, &res, &td, nullptr));
  cudaResourceDesc back_res{};
  CUDA_CHECK(cudaGetTextureObjectResourceDesc(&back_res, tex));
  CHECKF(back_res.resType == cudaResourceTypeMipmappedArray && back_res.res.mipmap.mipmap == mipmap,
         "the texture's resource");
  float* out;
  CUDA_CHECK(cudaMalloc(&out, W * H * sizeof(float)));
  for (int l = 0; l < kLevels; ++l) {
    const int w = LevelExtent(W, l), h = LevelExtent(H, l);
    lodSample<<<dim3(rtest::BlocksFor(w, 8), rtest::BlocksFor(h, 8)), dim3(8, 8)>>>(tex, out, w, h, float(l));
    CUDA_CHECK_LAUNCH();
    std::vector<float> got(size_t(w) * h);
    CUDA_CHECK(cudaMemcpy(got.data(), out, got.size() * sizeof(float), cudaMemcpyDeviceToHost));
    for (int i = 0; i < w * h; ++i) {
      CHECKF(got[i] == levels[l][i], "level %d sampled at (%d, %d): %.9g, expected %.9g", l, i % w, i / w, got[i],
             levels[l][i]);
    }
    sum.AddVector(got);
  }
  CUDA_CHECK(cudaFree(out));
  CUDA_CHECK(cudaDestroyTextureObject(tex));

  // Through rcuda (which checks every handle) a level is freed with its
  // mipmapped array only, and is gone with it.
  cudaArray_t level0;
  CUDA_CHECK(cudaGetMipmappedArrayLevel(&level0, mipmap, 0));
  const bool remote = std::getenv("RCUDA_DEVICE_COUNT") != nullptr;
  if (remote) {
    CUDA_EXPECT(cudaFreeArray(level0), cudaErrorInvalidValue);
    CUDA_EXPECT(cudaGetLastError(), cudaErrorInvalidValue);
  }
  CUDA_CHECK(cudaFreeMipmappedArray(mipmap));
  if (remote) {
    float host = 0;
    CUDA_EXPECT(cudaMemcpy2DToArray(level0, 0, 0, &host, 4, 4, 1, cudaMemcpyHostToDevice),
                cudaErrorInvalidResourceHandle);
    CUDA_EXPECT(cudaFreeMipmappedArray(mipmap), cudaErrorInvalidResourceHandle);
    CUDA_EXPECT(cudaGetLastError(), cudaErrorInvalidResourceHandle);
  }
}

// A layered mipmapped array: its levels halve width and height and keep
// their layers; a layer of a level round-trips.
void Layered(rtest::Rng& rng, rtest::Checksum& sum) {
  constexpr int LW = 16, LH = 8, LAYERS = 3;
  cudaChannelFormatDesc desc = cudaCreateChannelDesc<int>();
  cudaMipmappedArray_t mipmap;
  CUDA_CHECK(cudaMallocMipmappedArray(&mipmap, &desc, make_cudaExtent(LW, LH, LAYERS), 3, cudaArrayLayered));
  for (int l = 0; l < 3; ++l) {
    cudaArray_t level;
    CUDA_CHECK(cudaGetMipmappedArrayLevel(&level, mipmap, l));
    cudaExtent extent{};
    unsigned flags = 0;
    CUDA_CHECK(cudaArrayGetInfo(nullptr, &extent, &flags, level));
    CHECKF(int(extent.width) == LW >> l && int(extent.height) == LH >> l && int(extent.depth) == LAYERS &&
               (flags & cudaArrayLayered),
           "layered level %d's extent %zux%zux%zu", l, extent.width, extent.height, extent.depth);
    // Layer 1 of the level, through cudaMemcpy3D.
    const int w = LW >> l, h = LH >> l;
    std::vector<int> layer(size_t(w) * h), back(size_t(w) * h);
    rng.FillInts(layer, -1000000, 1000000);
    cudaMemcpy3DParms p{};
    p.srcPtr = make_cudaPitchedPtr(layer.data(), w * sizeof(int), w, h);
    p.dstArray = level;
    p.dstPos = make_cudaPos(0, 0, 1);
    p.extent = make_cudaExtent(w, h, 1);
    p.kind = cudaMemcpyHostToDevice;
    CUDA_CHECK(cudaMemcpy3D(&p));
    cudaMemcpy3DParms q{};
    q.srcArray = level;
    q.srcPos = make_cudaPos(0, 0, 1);
    q.dstPtr = make_cudaPitchedPtr(back.data(), w * sizeof(int), w, h);
    q.extent = make_cudaExtent(w, h, 1);
    q.kind = cudaMemcpyDeviceToHost;
    CUDA_CHECK(cudaMemcpy3D(&q));
    CHECKF(back == layer, "layer 1 of layered level %d", l);
    sum.AddVector(back);
  }
  CUDA_CHECK(cudaFreeMipmappedArray(mipmap));
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("mipmapped_arrays");
  rtest::Checksum sum;
  Sampled(rng, sum);
  Layered(rng, sum);
  // The session goes on after the refusals.
  Sampled(rng, sum);
  CUDA_CHECK(cudaDeviceSynchronize());
  return rtest::Pass(sum);
}
