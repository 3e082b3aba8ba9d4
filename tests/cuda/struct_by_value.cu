// struct_by_value: kernels that take structs by value: padding inside
// structs, 1-byte and 16-byte alignment, a 32-byte struct, nested structs, a
// struct of device pointers, and single chars between aligned structs. The
// kernel writes back what it received; any packing error in the parameter
// buffer (offsets, sizes, alignment) shows up as a wrong field.
#include "struct_by_value.h"
#include "test_util.h"

__global__ void echoStructs(Small small, Packed3 packed, Mixed mixed, Aligned16 aligned, Vec32 vec, Nested nested,
                            Echo* out) {
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    out->small = small;
    out->packed = packed;
    out->mixed = mixed;
    out->aligned = aligned;
    out->vec = vec;
    out->nested = nested;
  }
}

// Single chars around aligned structs: tag2's offset follows a 16-aligned
// struct, vec's follows a char.
__global__ void echoTags(char tag1, Aligned16 aligned, char tag2, Vec32 vec, Echo* out) {
  if (threadIdx.x == 0) {
    out->tag1 = tag1;
    out->aligned = aligned;
    out->tag2 = tag2;
    out->vec = vec;
  }
}

// Per-element work through pointers inside a struct.
__global__ void applyRange(Range r, Small bias) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < r.n) r.dst[i] = r.src[i] * r.scale + bias.i + bias.c;
}

// Every thread uses every field, so that a field wrong in any thread's copy
// matters: out[i] = i * vec.x + mixed.d + aligned.v[i % 3] + nested.ll.
__global__ void combine(Vec32 vec, Mixed mixed, Aligned16 aligned, Nested nested, double* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    double v = __dmul_rn((double)i, vec.x);
    v = __dadd_rn(v, mixed.d);
    v = __dadd_rn(v, (double)aligned.v[i % 3]);
    v = __dadd_rn(v, (double)nested.ll);
    out[i] = v;
  }
}

static char RandomChar(rtest::Rng& rng) { return static_cast<char>(rng.Int(-128, 127)); }

// Hex of a field's bytes, for failure messages.
static std::string Hex(const void* p, size_t n) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", static_cast<const unsigned char*>(p)[i]);
    s += buf;
  }
  return s;
}

static void CheckEcho(const Echo& got, const Echo& want, bool tags) {
  auto same = [](const void* a, const void* b, size_t n) { return std::memcmp(a, b, n) == 0; };
#define FIELD(f)                                                                                         \
  CHECKF(same(&got.f, &want.f, sizeof want.f), "field " #f " arrived as %s, expected %s (%s)",          \
         Hex(&got.f, sizeof got.f).c_str(), Hex(&want.f, sizeof want.f).c_str(), tags ? "echoTags" : "echoStructs")
  FIELD(aligned.v[0]);
  FIELD(aligned.v[1]);
  FIELD(aligned.v[2]);
  FIELD(aligned.tag);
  FIELD(vec.x);
  FIELD(vec.y);
  FIELD(vec.z);
  FIELD(vec.w);
  if (tags) {
    FIELD(tag1);
    FIELD(tag2);
  } else {
    FIELD(small.c);
    FIELD(small.i);
    FIELD(packed.a);
    FIELD(packed.b);
    FIELD(packed.c);
    FIELD(mixed.a);
    FIELD(mixed.d);
    FIELD(mixed.s);
    FIELD(mixed.f);
    FIELD(nested.s.c);
    FIELD(nested.s.i);
    FIELD(nested.p.a);
    FIELD(nested.p.b);
    FIELD(nested.p.c);
    FIELD(nested.ll);
  }
#undef FIELD
}

int main() {
  rtest::Rng rng = rtest::Init("struct_by_value");
  rtest::Checksum sum;

  static_assert(sizeof(Small) == 8 && sizeof(Packed3) == 3 && sizeof(Mixed) == 24 && sizeof(Aligned16) == 16 &&
                    sizeof(Vec32) == 32 && sizeof(Nested) == 24,
                "layouts this test assumes");

  Echo* dEcho;
  CUDA_CHECK(cudaMalloc(&dEcho, sizeof(Echo)));

  for (int round = 0; round < 4; ++round) {
    Echo want;
    std::memset(&want, 0, sizeof want);
    want.small = {RandomChar(rng), static_cast<int>(rng.U32())};
    want.packed = {RandomChar(rng), RandomChar(rng), RandomChar(rng)};
    want.mixed.a = RandomChar(rng);
    want.mixed.d = rng.Double(-1e6, 1e6);
    want.mixed.s = static_cast<short>(rng.Int(-32768, 32767));
    want.mixed.f = rng.Float(-1e3f, 1e3f);
    for (float& v : want.aligned.v) v = rng.Float(-10.f, 10.f);
    want.aligned.tag = static_cast<int>(rng.U32());
    want.vec = {rng.Double(-1, 1), rng.Double(-1, 1), rng.Double(-1, 1), rng.Double(-1, 1)};
    want.nested.s = {RandomChar(rng), static_cast<int>(rng.U32())};
    want.nested.p = {RandomChar(rng), RandomChar(rng), RandomChar(rng)};
    want.nested.ll = static_cast<long long>(rng.Next());
    want.tag1 = RandomChar(rng);
    want.tag2 = RandomChar(rng);

    Echo got;
    CUDA_CHECK(cudaMemset(dEcho, 0, sizeof(Echo)));
    echoStructs<<<1, 32>>>(want.small, want.packed, want.mixed, want.aligned, want.vec, want.nested, dEcho);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(&got, dEcho, sizeof(Echo), cudaMemcpyDeviceToHost));
    CheckEcho(got, want, false);

    CUDA_CHECK(cudaMemset(dEcho, 0, sizeof(Echo)));
    echoTags<<<1, 1>>>(want.tag1, want.aligned, want.tag2, want.vec, dEcho);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(&got, dEcho, sizeof(Echo), cudaMemcpyDeviceToHost));
    CheckEcho(got, want, true);
    sum.AddValue(want.nested.ll);

    const int n = 50001 + round * 1234;
    std::vector<int> src(n), dst(n), expect(n);
    rng.FillInts(src, -10000, 10000);
    int *dSrc, *dDst;
    CUDA_CHECK(cudaMalloc(&dSrc, n * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&dDst, n * sizeof(int)));
    CUDA_CHECK(cudaMemcpy(dSrc, src.data(), n * sizeof(int), cudaMemcpyHostToDevice));
    Range range{dSrc, dDst, n, static_cast<int>(rng.Int(-50, 50))};
    Small bias{RandomChar(rng), static_cast<int>(rng.Int(-100000, 100000))};
    applyRange<<<rtest::BlocksFor(n, 128), 128>>>(range, bias);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(dst.data(), dDst, n * sizeof(int), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; ++i) expect[i] = src[i] * range.scale + bias.i + bias.c;
    rtest::ExpectEqual(dst, expect, "applyRange(Range, Small)");
    sum.AddVector(dst);

    std::vector<double> out(n), ref(n);
    double* dOut;
    CUDA_CHECK(cudaMalloc(&dOut, n * sizeof(double)));
    combine<<<rtest::BlocksFor(n, 256), 256>>>(want.vec, want.mixed, want.aligned, want.nested, dOut, n);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(out.data(), dOut, n * sizeof(double), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; ++i) {
      double v = static_cast<double>(i) * want.vec.x;
      v = v + want.mixed.d;
      v = v + static_cast<double>(want.aligned.v[i % 3]);
      v = v + static_cast<double>(want.nested.ll);
      ref[i] = v;
    }
    rtest::ExpectEqual(out, ref, "combine(Vec32, Mixed, Aligned16, Nested)");
    sum.AddVector(out);
    CUDA_CHECK(cudaFree(dSrc));
    CUDA_CHECK(cudaFree(dDst));
    CUDA_CHECK(cudaFree(dOut));
  }
  CUDA_CHECK(cudaFree(dEcho));
  return rtest::Pass(sum);
}
