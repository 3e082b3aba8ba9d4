// array_copies: copies to, from and between CUDA arrays of every shape, as
// volume and image codes make them (3-D textures, layered arrays): no
// kernel, only copies, each read back and compared exactly with a host
// model of the array.
//   - cudaMemcpy3D host -> 3-D array (whole), array -> host (a sub-box into a
//     pitched host buffer), device -> array (a sub-box from pitched device
//     memory), array -> array (a sub-box between two 3-D arrays);
//   - a layered 2-D array: all layers in, one layer out;
//   - cudaMemcpy2DArrayToArray between 2-D arrays;
//   - the deprecated 1-D copies (cudaMemcpyToArray/FromArray) through the
//     ends of rows;
//   - refusals, natively as through rcuda: a box past the array's depth, an
//     array and a pointer on one side, arrays of different element sizes.
#include <cstring>
#include <vector>

#include "test_util.h"

namespace {

constexpr int W = 8, H = 6, D = 5;  // the 3-D arrays, in floats

// Reads the whole 3-D float array back.
std::vector<float> ReadVolume(cudaArray_t a) {
  std::vector<float> v(W * H * D);
  cudaMemcpy3DParms p = {};
  p.srcArray = a;
  p.dstPtr = make_cudaPitchedPtr(v.data(), W * sizeof(float), W, H);
  p.extent = make_cudaExtent(W, H, D);
  p.kind = cudaMemcpyDeviceToHost;
  CUDA_CHECK(cudaMemcpy3D(&p));
  return v;
}

float& At(std::vector<float>& v, int x, int y, int z) { return v[(z * H + y) * W + x]; }

void Volumes(rtest::Rng& rng, rtest::Checksum& sum) {
  const cudaChannelFormatDesc f = cudaCreateChannelDesc<float>();
  cudaArray_t vol = nullptr, other = nullptr;
  CUDA_CHECK(cudaMalloc3DArray(&vol, &f, make_cudaExtent(W, H, D)));
  CUDA_CHECK(cudaMalloc3DArray(&other, &f, make_cudaExtent(W, H, D)));
  std::vector<float> model(W * H * D);
  rng.FillFloats(model, -100, 100);

  // Host -> array, whole.
  cudaMemcpy3DParms in = {};
  in.srcPtr = make_cudaPitchedPtr(model.data(), W * sizeof(float), W, H);
  in.dstArray = vol;
  in.extent = make_cudaExtent(W, H, D);
  in.kind = cudaMemcpyHostToDevice;
  CUDA_CHECK(cudaMemcpy3D(&in));
  rtest::ExpectEqual(ReadVolume(vol), model, "3-D array, whole round trip");

  // Array -> host: the box at (2, 1, 1) of 4 x 3 x 2, into a host buffer of
  // rows 7 floats apart and slices 5 rows apart, at (1, 1, 0) in it.
  std::vector<float> host(7 * 5 * 2, -1.0f);
  cudaMemcpy3DParms out = {};
  out.srcArray = vol;
  out.srcPos = make_cudaPos(2, 1, 1);
  out.dstPtr = make_cudaPitchedPtr(host.data(), 7 * sizeof(float), 7, 5);
  out.dstPos = make_cudaPos(1 * sizeof(float), 1, 0);
  out.extent = make_cudaExtent(4, 3, 2);
  out.kind = cudaMemcpyDeviceToHost;
  CUDA_CHECK(cudaMemcpy3D(&out));
  std::vector<float> want(host.size(), -1.0f);
  for (int z = 0; z < 2; ++z)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 4; ++x) want[(z * 5 + 1 + y) * 7 + 1 + x] = At(model, 2 + x, 1 + y, 1 + z);
  rtest::ExpectEqual(host, want, "3-D array -> pitched host sub-box");
  sum.AddVector(host);

  // Device -> array: the box at (1, 2, 3) of 3 x 2 x 2 from device memory of
  // rows 64 bytes apart and slices 4 rows apart.
  std::vector<float> dev_host(16 * 4 * 2);
  rng.FillFloats(dev_host, 200, 300);
  void* dev = nullptr;
  CUDA_CHECK(cudaMalloc(&dev, dev_host.size() * sizeof(float)));
  CUDA_CHECK(cudaMemcpy(dev, dev_host.data(), dev_host.size() * sizeof(float), cudaMemcpyHostToDevice));
  cudaMemcpy3DParms fromdev = {};
  fromdev.srcPtr = make_cudaPitchedPtr(dev, 64, 16, 4);
  fromdev.dstArray = vol;
  fromdev.dstPos = make_cudaPos(1, 2, 3);
  fromdev.extent = make_cudaExtent(3, 2, 2);
  fromdev.kind = cudaMemcpyDeviceToDevice;
  CUDA_CHECK(cudaMemcpy3D(&fromdev));
  for (int z = 0; z < 2; ++z)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x) At(model, 1 + x, 2 + y, 3 + z) = dev_host[(z * 4 + y) * 16 + x];
  std::vector<float> got = ReadVolume(vol);
  rtest::ExpectEqual(got, model, "device sub-box -> 3-D array");
  sum.AddVector(got);

  // Array -> array: the box at (0, 0, 2) of 8 x 6 x 3 to (0, 0, 0) of the other.
  std::vector<float> zeros(W * H * D, 0.0f);
  in.srcPtr = make_cudaPitchedPtr(zeros.data(), W * sizeof(float), W, H);
  in.dstArray = other;
  CUDA_CHECK(cudaMemcpy3D(&in));
  cudaMemcpy3DParms a2a = {};
  a2a.srcArray = vol;
  a2a.srcPos = make_cudaPos(0, 0, 2);
  a2a.dstArray = other;
  a2a.extent = make_cudaExtent(W, H, 3);
  a2a.kind = cudaMemcpyDeviceToDevice;
  CUDA_CHECK(cudaMemcpy3D(&a2a));
  std::vector<float> moved(zeros);
  std::memcpy(moved.data(), model.data() + 2 * W * H, 3 * W * H * sizeof(float));
  got = ReadVolume(other);
  rtest::ExpectEqual(got, moved, "3-D array -> 3-D array");
  sum.AddVector(got);

  // Refusals: a box one slice past the depth; an array and a pointer as the source.
  out.srcPos = make_cudaPos(0, 0, 4);
  CUDA_EXPECT(cudaMemcpy3D(&out), cudaErrorInvalidValue);
  cudaGetLastError();
  cudaMemcpy3DParms both = in;
  both.srcArray = other;
  CUDA_EXPECT(cudaMemcpy3D(&both), cudaErrorInvalidValue);
  cudaGetLastError();
  cudaArray_t bytes = nullptr;
  const cudaChannelFormatDesc u8 = cudaCreateChannelDesc<unsigned char>();
  CUDA_CHECK(cudaMalloc3DArray(&bytes, &u8, make_cudaExtent(W, H, D)));
  a2a.dstArray = bytes;
  CUDA_EXPECT(cudaMemcpy3D(&a2a), cudaErrorInvalidValue);
  cudaGetLastError();
  // Still working.
  rtest::ExpectEqual(ReadVolume(vol), model, "3-D array after the refusals");
  CUDA_CHECK(cudaFree(dev));
  CUDA_CHECK(cudaFreeArray(vol));
  CUDA_CHECK(cudaFreeArray(other));
  CUDA_CHECK(cudaFreeArray(bytes));
}

// A layered 2-D array of uchar4: all three layers in, then layer 2 alone out.
void Layers(rtest::Rng& rng, rtest::Checksum& sum) {
  const int w = 10, h = 4, layers = 3;
  const cudaChannelFormatDesc d = cudaCreateChannelDesc<uchar4>();
  cudaArray_t a = nullptr;
  CUDA_CHECK(cudaMalloc3DArray(&a, &d, make_cudaExtent(w, h, layers), cudaArrayLayered));
  std::vector<uchar4> model(w * h * layers);
  rng.FillBytes(model.data(), model.size() * sizeof(uchar4));
  cudaMemcpy3DParms in = {};
  in.srcPtr = make_cudaPitchedPtr(model.data(), w * sizeof(uchar4), w, h);
  in.dstArray = a;
  in.extent = make_cudaExtent(w, h, layers);
  in.kind = cudaMemcpyHostToDevice;
  CUDA_CHECK(cudaMemcpy3D(&in));
  std::vector<uchar4> layer(w * h);
  cudaMemcpy3DParms out = {};
  out.srcArray = a;
  out.srcPos = make_cudaPos(0, 0, 2);
  out.dstPtr = make_cudaPitchedPtr(layer.data(), w * sizeof(uchar4), w, h);
  out.extent = make_cudaExtent(w, h, 1);
  out.kind = cudaMemcpyDeviceToHost;
  CUDA_CHECK(cudaMemcpy3D(&out));
  CHECKF(std::memcmp(layer.data(), model.data() + 2 * w * h, layer.size() * sizeof(uchar4)) == 0,
         "layered array: layer 2 read back differs");
  sum.Add(layer.data(), layer.size() * sizeof(uchar4));
  CUDA_CHECK(cudaFreeArray(a));
}

// 2-D arrays: cudaMemcpy2DArrayToArray, and the deprecated 1-D copies
// through the ends of rows.
void Planes(rtest::Rng& rng, rtest::Checksum& sum) {
  const int w = 16, h = 8;
  const cudaChannelFormatDesc f = cudaCreateChannelDesc<float>();
  cudaArray_t a = nullptr, b = nullptr;
  CUDA_CHECK(cudaMallocArray(&a, &f, w, h));
  CUDA_CHECK(cudaMallocArray(&b, &f, w, h));
  std::vector<float> ma(w * h), mb(w * h, 0.0f);
  rng.FillFloats(ma, -1, 1);
  CUDA_CHECK(cudaMemcpy2DToArray(a, 0, 0, ma.data(), w * sizeof(float), w * sizeof(float), h,
                                 cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy2DToArray(b, 0, 0, mb.data(), w * sizeof(float), w * sizeof(float), h,
                                 cudaMemcpyHostToDevice));
  // 5 x 3 floats at (4, 2) of a to (9, 5) of b.
  CUDA_CHECK(cudaMemcpy2DArrayToArray(b, 9 * sizeof(float), 5, a, 4 * sizeof(float), 2, 5 * sizeof(float), 3,
                                      cudaMemcpyDeviceToDevice));
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x) mb[(5 + y) * w + 9 + x] = ma[(2 + y) * w + 4 + x];
  std::vector<float> got(w * h);
  CUDA_CHECK(cudaMemcpy2DFromArray(got.data(), w * sizeof(float), b, 0, 0, w * sizeof(float), h,
                                   cudaMemcpyDeviceToHost));
  rtest::ExpectEqual(got, mb, "cudaMemcpy2DArrayToArray");
  sum.AddVector(got);

  // 50 floats from float 2 of row 1 on: through three row ends.
  std::vector<float> run(50);
  rng.FillFloats(run, 5, 6);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  CUDA_CHECK(cudaMemcpyToArray(a, 2 * sizeof(float), 1, run.data(), run.size() * sizeof(float),
                               cudaMemcpyHostToDevice));
  std::memcpy(ma.data() + 1 * w + 2, run.data(), run.size() * sizeof(float));
  std::vector<float> back(ma.size());
  CUDA_CHECK(cudaMemcpyFromArray(back.data(), a, 0, 0, back.size() * sizeof(float), cudaMemcpyDeviceToHost));
  rtest::ExpectEqual(back, ma, "cudaMemcpyToArray / FromArray through row ends");
  sum.AddVector(back);
  // Past the array's end: refused.
  CUDA_EXPECT(cudaMemcpyToArray(a, 0, h - 1, run.data(), run.size() * sizeof(float), cudaMemcpyHostToDevice),
              cudaErrorInvalidValue);
  cudaGetLastError();
#pragma GCC diagnostic pop
  CUDA_CHECK(cudaFreeArray(a));
  CUDA_CHECK(cudaFreeArray(b));
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("array_copies");
  rtest::Checksum sum;
  Volumes(rng, sum);
  Layers(rng, sum);
  Planes(rng, sum);
  return rtest::Pass(sum);
}
