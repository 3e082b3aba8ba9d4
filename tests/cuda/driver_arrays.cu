// driver_vector_add's CUDA arrays through the driver API (driver_calls.h):
// cuArrayCreate and cuArray3DCreate with their descriptors read back, 2D
// copies host -> array -> device -> array -> host (cuMemcpy2D with an array
// on either side, and array to array), a layered array's descriptor, a
// texture and a surface object with the texture's resource read back, and a
// mipmapped array's levels (cuMipmappedArrayGetLevel) with a copy into one;
// a kernel of the module sampling a texture made by cuTexObjectCreate;
// cuMemcpy3D between a 3-D array, host and device memory (a box at an
// offset among them), and the 1-D copies of a 1-D array.
#include <cuda.h>

#include <vector>

#include "driver_calls.h"
#include "driver_check.h"

namespace {

CUDA_MEMCPY2D Copy2D(size_t width_bytes, size_t height) {
  CUDA_MEMCPY2D c{};
  c.WidthInBytes = width_bytes;
  c.Height = height;
  return c;
}

// A 3-D array of 6 x 5 x 4 ints: host (rows padded to 8 ints, slices to 6
// rows) -> array; a 2 x 2 x 2 box of another host buffer into the array at
// (2, 1, 1); array -> device -> host.
void Arrays3D(rtest::Rng& rng, rtest::Checksum& sum) {
  constexpr int X = 6, Y = 5, Z = 4, XP = 8, YP = 6;
  CUDA_ARRAY3D_DESCRIPTOR d{};
  d.Width = X, d.Height = Y, d.Depth = Z, d.Format = CU_AD_FORMAT_SIGNED_INT32, d.NumChannels = 1;
  CUarray a;
  CU_CHECK(cuArray3DCreate(&a, &d));
  std::vector<int> host(XP * YP * Z), box(2 * 2 * 2), back(X * Y * Z);
  rng.FillInts(host, -1000000, 1000000);
  rng.FillInts(box, -1000000, 1000000);
  CUDA_MEMCPY3D c{};
  c.srcMemoryType = CU_MEMORYTYPE_HOST, c.srcHost = host.data(), c.srcPitch = XP * 4, c.srcHeight = YP;
  c.dstMemoryType = CU_MEMORYTYPE_ARRAY, c.dstArray = a;
  c.WidthInBytes = X * 4, c.Height = Y, c.Depth = Z;
  CU_CHECK(cuMemcpy3D(&c));
  c = CUDA_MEMCPY3D{};
  c.srcMemoryType = CU_MEMORYTYPE_HOST, c.srcHost = box.data(), c.srcPitch = 2 * 4, c.srcHeight = 2;
  c.dstMemoryType = CU_MEMORYTYPE_ARRAY, c.dstArray = a, c.dstXInBytes = 2 * 4, c.dstY = 1, c.dstZ = 1;
  c.WidthInBytes = 2 * 4, c.Height = 2, c.Depth = 2;
  CU_CHECK(cuMemcpy3DAsync(&c, nullptr));
  CUdeviceptr dev;
  CU_CHECK(cuMemAlloc(&dev, X * Y * Z * 4));
  c = CUDA_MEMCPY3D{};
  c.srcMemoryType = CU_MEMORYTYPE_ARRAY, c.srcArray = a;
  c.dstMemoryType = CU_MEMORYTYPE_DEVICE, c.dstDevice = dev, c.dstPitch = X * 4, c.dstHeight = Y;
  c.WidthInBytes = X * 4, c.Height = Y, c.Depth = Z;
  CU_CHECK(cuMemcpy3D(&c));
  CU_CHECK(cuMemcpyDtoH(back.data(), dev, back.size() * 4));
  for (int z = 0; z < Z; ++z)
    for (int y = 0; y < Y; ++y)
      for (int x = 0; x < X; ++x) {
        const bool in_box = x >= 2 && x < 4 && y >= 1 && y < 3 && z >= 1 && z < 3;
        const int want = in_box ? box[((z - 1) * 2 + (y - 1)) * 2 + (x - 2)] : host[(z * YP + y) * XP + x];
        CHECKF(back[(z * Y + y) * X + x] == want, "3-D array element (%d, %d, %d)", x, y, z);
      }
  sum.AddVector(back);
  CU_CHECK(cuMemFree(dev));
  CU_CHECK(cuArrayDestroy(a));
}

// Two 1-D arrays of 32 floats: HtoA at an offset, DtoA, AtoA, AtoD, AtoH.
void Arrays1D(rtest::Rng& rng, rtest::Checksum& sum) {
  constexpr int N = 32;
  CUDA_ARRAY_DESCRIPTOR d{};
  d.Width = N, d.Height = 0, d.Format = CU_AD_FORMAT_FLOAT, d.NumChannels = 1;
  CUarray a, b;
  CU_CHECK(cuArrayCreate(&a, &d));
  CU_CHECK(cuArrayCreate(&b, &d));
  std::vector<float> whole(N), part(4), back(N);
  for (auto& v : whole) v = rng.Float(-10.f, 10.f);
  for (auto& v : part) v = rng.Float(-10.f, 10.f);
  CUdeviceptr dev;
  CU_CHECK(cuMemAlloc(&dev, N * 4));
  CU_CHECK(cuMemcpyHtoD(dev, whole.data(), N * 4));
  CU_CHECK(cuMemcpyDtoA(a, 0, dev, N * 4));
  CU_CHECK(cuMemcpyHtoA(a, 8 * 4, part.data(), 4 * 4));
  CU_CHECK(cuMemcpyAtoA(b, 0, a, 0, N * 4));
  CU_CHECK(cuMemsetD8(dev, 0, N * 4));
  CU_CHECK(cuMemcpyAtoD(dev, b, 0, N * 4));
  CU_CHECK(cuMemcpyDtoH(back.data(), dev, N * 4));
  std::vector<float> want = whole;
  for (int i = 0; i < 4; ++i) want[8 + i] = part[i];
  CHECKF(back == want, "1-D arrays through DtoA, HtoA, AtoA, AtoD");
  std::vector<float> tail(6);
  CU_CHECK(cuMemcpyAtoH(tail.data(), b, 6 * 4, 6 * 4));
  for (int i = 0; i < 6; ++i) CHECKF(tail[i] == want[6 + i], "cuMemcpyAtoH at an offset, element %d", i);
  sum.AddVector(back);
  CU_CHECK(cuMemFree(dev));
  CU_CHECK(cuArrayDestroy(a));
  CU_CHECK(cuArrayDestroy(b));
}

}  // namespace

namespace {

// drvTexShift samples a float texture made by cuTexObjectCreate: element
// (x - 1, y), column -1 clamped (CU_TR_ADDRESS_MODE_CLAMP) or the border's
// zero (CU_TR_ADDRESS_MODE_BORDER).
void TextureShift(CUmodule module, rtest::Rng& rng, rtest::Checksum& sum) {
  constexpr int W = 21, H = 9;
  CUfunction shift;
  CU_CHECK(cuModuleGetFunction(&shift, module, "drvTexShift"));
  CUDA_ARRAY_DESCRIPTOR d{};
  d.Width = W, d.Height = H, d.Format = CU_AD_FORMAT_FLOAT, d.NumChannels = 1;
  CUarray a;
  CU_CHECK(cuArrayCreate(&a, &d));
  std::vector<float> image(W * H), got(W * H);
  for (auto& v : image) v = rng.Float(-10.f, 10.f);
  CUDA_MEMCPY2D c = Copy2D(W * 4, H);
  c.srcMemoryType = CU_MEMORYTYPE_HOST, c.srcHost = image.data(), c.srcPitch = W * 4;
  c.dstMemoryType = CU_MEMORYTYPE_ARRAY, c.dstArray = a;
  CU_CHECK(cuMemcpy2D(&c));
  CUdeviceptr out;
  CU_CHECK(cuMemAlloc(&out, W * H * 4));
  for (CUaddress_mode mode : {CU_TR_ADDRESS_MODE_CLAMP, CU_TR_ADDRESS_MODE_BORDER}) {
    CUDA_RESOURCE_DESC res{};
    res.resType = CU_RESOURCE_TYPE_ARRAY;
    res.res.array.hArray = a;
    CUDA_TEXTURE_DESC td{};
    td.addressMode[0] = td.addressMode[1] = mode;
    td.filterMode = CU_TR_FILTER_MODE_POINT;
    td.flags = CU_TRSF_READ_AS_INTEGER;
    CUtexObject tex = 0;
    CU_CHECK(cuTexObjectCreate(&tex, &res, &td, nullptr));
    int w = W, h = H;
    void* params[] = {&tex, &out, &w, &h};
    CU_CHECK(cuLaunchKernel(shift, rtest::BlocksFor(W, 8), rtest::BlocksFor(H, 8), 1, 8, 8, 1, 0, nullptr, params,
                            nullptr));
    CU_CHECK(cuMemcpyDtoH(got.data(), out, got.size() * 4));
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        const float want = x > 0 ? image[y * W + x - 1] : mode == CU_TR_ADDRESS_MODE_CLAMP ? image[y * W] : 0.0f;
        CHECKF(got[y * W + x] == want, "drvTexShift (address mode %d) at (%d, %d)", int(mode), x, y);
      }
    sum.AddVector(got);
    CU_CHECK(cuTexObjectDestroy(tex));
  }
  CU_CHECK(cuMemFree(out));
  CU_CHECK(cuArrayDestroy(a));
}

}  // namespace

void DriverArrays(CUmodule module, rtest::Rng& rng, rtest::Checksum& sum) {
  constexpr int W = 19, H = 7;
  CUDA_ARRAY_DESCRIPTOR d2{};
  d2.Width = W, d2.Height = H, d2.Format = CU_AD_FORMAT_SIGNED_INT32, d2.NumChannels = 1;
  CUarray a, b;
  CU_CHECK(cuArrayCreate(&a, &d2));
  CUDA_ARRAY_DESCRIPTOR back2{};
  CU_CHECK(cuArrayGetDescriptor(&back2, a));
  CHECKF(back2.Width == W && back2.Height == H && back2.Format == CU_AD_FORMAT_SIGNED_INT32 && back2.NumChannels == 1,
         "cuArrayGetDescriptor");
  CUDA_ARRAY3D_DESCRIPTOR d3{};
  d3.Width = W, d3.Height = H, d3.Format = CU_AD_FORMAT_SIGNED_INT32, d3.NumChannels = 1;
  d3.Flags = CUDA_ARRAY3D_SURFACE_LDST;
  CU_CHECK(cuArray3DCreate(&b, &d3));
  CUDA_ARRAY3D_DESCRIPTOR back3{};
  CU_CHECK(cuArray3DGetDescriptor(&back3, b));
  CHECKF(back3.Width == W && back3.Height == H && back3.Depth == 0 && back3.Flags == CUDA_ARRAY3D_SURFACE_LDST,
         "cuArray3DGetDescriptor");

  // Host (rows padded to 24 ints) -> a -> device (pitched) -> b -> a -> host.
  const int HP = 24;
  std::vector<int> host(HP * H), back(HP * H, -1);
  rng.FillInts(host, -1000000, 1000000);
  CUdeviceptr dev;
  size_t pitch = 0;
  CU_CHECK(cuMemAllocPitch(&dev, &pitch, W * 4, H, 4));
  CUDA_MEMCPY2D c = Copy2D(W * 4, H);
  c.srcMemoryType = CU_MEMORYTYPE_HOST, c.srcHost = host.data(), c.srcPitch = HP * 4;
  c.dstMemoryType = CU_MEMORYTYPE_ARRAY, c.dstArray = a;
  CU_CHECK(cuMemcpy2D(&c));
  c = Copy2D(W * 4, H);
  c.srcMemoryType = CU_MEMORYTYPE_ARRAY, c.srcArray = a;
  c.dstMemoryType = CU_MEMORYTYPE_DEVICE, c.dstDevice = dev, c.dstPitch = pitch;
  CU_CHECK(cuMemcpy2D(&c));
  c = Copy2D(W * 4, H);
  c.srcMemoryType = CU_MEMORYTYPE_DEVICE, c.srcDevice = dev, c.srcPitch = pitch;
  c.dstMemoryType = CU_MEMORYTYPE_ARRAY, c.dstArray = b;
  CU_CHECK(cuMemcpy2DAsync(&c, nullptr));
  CU_CHECK(cuCtxSynchronize());
  // Array to array: b's rows 1.. into a's rows 0.., 5 ints from x = 2.
  c = Copy2D(5 * 4, H - 1);
  c.srcMemoryType = CU_MEMORYTYPE_ARRAY, c.srcArray = b, c.srcXInBytes = 2 * 4, c.srcY = 1;
  c.dstMemoryType = CU_MEMORYTYPE_ARRAY, c.dstArray = a, c.dstXInBytes = 2 * 4, c.dstY = 0;
  CU_CHECK(cuMemcpy2D(&c));
  std::vector<int> want = host;
  for (int y = 0; y + 1 < H; ++y)
    for (int x = 2; x < 7; ++x) want[y * HP + x] = host[(y + 1) * HP + x];
  c = Copy2D(W * 4, H);
  c.srcMemoryType = CU_MEMORYTYPE_ARRAY, c.srcArray = a;
  c.dstMemoryType = CU_MEMORYTYPE_HOST, c.dstHost = back.data(), c.dstPitch = HP * 4;
  CU_CHECK(cuMemcpy2D(&c));
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < HP; ++x)
      CHECKF(back[y * HP + x] == (x < W ? want[y * HP + x] : -1), "array round trip at (%d, %d)", x, y);
  sum.AddVector(back);

  // A texture on a, a surface on b.
  CUDA_RESOURCE_DESC res{};
  res.resType = CU_RESOURCE_TYPE_ARRAY;
  res.res.array.hArray = a;
  CUDA_TEXTURE_DESC td{};
  td.addressMode[0] = td.addressMode[1] = CU_TR_ADDRESS_MODE_CLAMP;
  td.filterMode = CU_TR_FILTER_MODE_POINT;
  td.flags = CU_TRSF_READ_AS_INTEGER;
  CUtexObject tex = 0;
  CU_CHECK(cuTexObjectCreate(&tex, &res, &td, nullptr));
  CUDA_RESOURCE_DESC res_back{};
  CU_CHECK(cuTexObjectGetResourceDesc(&res_back, tex));
  CHECKF(res_back.resType == CU_RESOURCE_TYPE_ARRAY && res_back.res.array.hArray == a, "the texture's resource");
  CU_CHECK(cuTexObjectDestroy(tex));
  res.res.array.hArray = b;
  CUsurfObject surf = 0;
  CU_CHECK(cuSurfObjectCreate(&surf, &res));
  CU_CHECK(cuSurfObjectDestroy(surf));

  // A layered array's descriptor keeps its layers and flag.
  CUarray layered;
  CUDA_ARRAY3D_DESCRIPTOR dl{};
  dl.Width = 8, dl.Height = 4, dl.Depth = 3, dl.Format = CU_AD_FORMAT_FLOAT, dl.NumChannels = 2;
  dl.Flags = CUDA_ARRAY3D_LAYERED;
  CU_CHECK(cuArray3DCreate(&layered, &dl));
  CU_CHECK(cuArray3DGetDescriptor(&back3, layered));
  CHECKF(back3.Width == 8 && back3.Height == 4 && back3.Depth == 3 && back3.NumChannels == 2 &&
             back3.Format == CU_AD_FORMAT_FLOAT && back3.Flags == CUDA_ARRAY3D_LAYERED,
         "a layered array's descriptor");

  // A mipmapped array: level 2 of 32 x 16 is 8 x 4.
  CUmipmappedArray mipmap;
  CUDA_ARRAY3D_DESCRIPTOR dm{};
  dm.Width = 32, dm.Height = 16, dm.Format = CU_AD_FORMAT_SIGNED_INT32, dm.NumChannels = 1;
  CU_CHECK(cuMipmappedArrayCreate(&mipmap, &dm, 4));
  CUarray level2;
  CU_CHECK(cuMipmappedArrayGetLevel(&level2, mipmap, 2));
  CU_CHECK(cuArray3DGetDescriptor(&back3, level2));
  CHECKF(back3.Width == 8 && back3.Height == 4, "mipmap level 2's descriptor: %zux%zu", back3.Width, back3.Height);
  std::vector<int> level(8 * 4), level_back(8 * 4);
  rng.FillInts(level, -1000, 1000);
  c = Copy2D(8 * 4, 4);
  c.srcMemoryType = CU_MEMORYTYPE_HOST, c.srcHost = level.data(), c.srcPitch = 8 * 4;
  c.dstMemoryType = CU_MEMORYTYPE_ARRAY, c.dstArray = level2;
  CU_CHECK(cuMemcpy2D(&c));
  c = Copy2D(8 * 4, 4);
  c.srcMemoryType = CU_MEMORYTYPE_ARRAY, c.srcArray = level2;
  c.dstMemoryType = CU_MEMORYTYPE_HOST, c.dstHost = level_back.data(), c.dstPitch = 8 * 4;
  CU_CHECK(cuMemcpy2D(&c));
  CHECKF(level_back == level, "mipmap level 2's round trip");
  sum.AddVector(level_back);
  CUarray beyond;
  CHECKF(cuMipmappedArrayGetLevel(&beyond, mipmap, 6) == CUDA_ERROR_INVALID_VALUE, "a level beyond the last");
  CU_CHECK(cuMipmappedArrayDestroy(mipmap));

  CU_CHECK(cuArrayDestroy(layered));
  CU_CHECK(cuMemFree(dev));
  CU_CHECK(cuArrayDestroy(a));
  CU_CHECK(cuArrayDestroy(b));
  Arrays3D(rng, sum);
  Arrays1D(rng, sum);
  TextureShift(module, rng, sum);
}
