// many_params: a kernel with 25 parameters of every scalar size (1, 2, 4 and 8
// bytes, signed and unsigned, float, double, bool), pointers and small structs
// in an order that forces padding between them, echoed back field by field;
// and a kernel that takes a 6000-byte struct by value. Catches parameter
// buffers packed with wrong offsets, sizes or alignment, truncated buffers,
// and fixed-size limits below CUDA's.
#include "many_params.h"
#include "test_util.h"

__global__ void manyParams(char c8, unsigned char u8, short s16, unsigned short u16, int i32, unsigned u32,
                           long long i64, unsigned long long u64, float f32, double f64, bool flag, const int* ptr,
                           Pair pair, char c8b, double f64b, short s16b, float* fptr, Vec3 v3, long long i64b,
                           char c8c, int i32b, double f64c, ParamEcho* echo, int* arrOut, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i == 0) {
    echo->c8 = c8;
    echo->u8 = u8;
    echo->s16 = s16;
    echo->u16 = u16;
    echo->i32 = i32;
    echo->u32 = u32;
    echo->i64 = i64;
    echo->u64 = u64;
    echo->f32 = f32;
    echo->f64 = f64;
    echo->flag = flag;
    echo->ptr = ptr;
    echo->pair = pair;
    echo->c8b = c8b;
    echo->f64b = f64b;
    echo->s16b = s16b;
    echo->fptr = fptr;
    echo->v3 = v3;
    echo->i64b = i64b;
    echo->c8c = c8c;
    echo->i32b = i32b;
    echo->f64c = f64c;
  }
  if (i < n) {
    // Uses parameters from the start, middle and end of the buffer.
    arrOut[i] = ptr[i] * i32b + c8 + s16 + (int)u8 + (flag ? pair.a : 0) + (int)(i64b & 0xff);
    fptr[i] = __fadd_rn(__fmul_rn((float)ptr[i], v3.x), pair.b);
  }
}

__global__ void bigParam(Coeffs coeffs, int count, const float* x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = __fmul_rn(x[i], coeffs.v[i % count]);
}

int main() {
  rtest::Rng rng = rtest::Init("many_params");
  rtest::Checksum sum;

  const int n = 70001;
  int* dIn;
  int* dOut;
  float* dF;
  ParamEcho* dEcho;
  CUDA_CHECK(cudaMalloc(&dIn, n * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&dOut, n * sizeof(int)));
  CUDA_CHECK(cudaMalloc(&dF, n * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&dEcho, sizeof(ParamEcho)));

  for (int round = 0; round < 3; ++round) {
    std::vector<int> in(n), out(n), wantOut(n);
    std::vector<float> f(n), wantF(n);
    rng.FillInts(in, -30000, 30000);
    CUDA_CHECK(cudaMemcpy(dIn, in.data(), n * sizeof(int), cudaMemcpyHostToDevice));

    ParamEcho want;
    std::memset(&want, 0, sizeof want);
    want.c8 = static_cast<char>(rng.Int(-128, 127));
    want.u8 = static_cast<unsigned char>(rng.Int(0, 255));
    want.s16 = static_cast<short>(rng.Int(-32768, 32767));
    want.u16 = static_cast<unsigned short>(rng.Int(0, 65535));
    want.i32 = static_cast<int>(rng.U32());
    want.u32 = rng.U32();
    want.i64 = static_cast<long long>(rng.Next());
    want.u64 = rng.Next();
    want.f32 = rng.Float(-1e6f, 1e6f);
    want.f64 = rng.Double(-1e12, 1e12);
    want.flag = (round % 2) == 0;
    want.ptr = dIn;
    want.pair = {static_cast<int>(rng.Int(-1000, 1000)), rng.Float(-8.f, 8.f)};
    want.c8b = static_cast<char>(rng.Int(-128, 127));
    want.f64b = rng.Double(-1, 1);
    want.s16b = static_cast<short>(rng.Int(-32768, 32767));
    want.fptr = dF;
    want.v3 = {rng.Float(-4.f, 4.f), rng.Float(-4.f, 4.f), rng.Float(-4.f, 4.f)};
    want.i64b = static_cast<long long>(rng.Next());
    want.c8c = static_cast<char>(rng.Int(-128, 127));
    want.i32b = static_cast<int>(rng.Int(-100, 100));
    want.f64c = rng.Double(-1e-3, 1e-3);

    CUDA_CHECK(cudaMemset(dEcho, 0, sizeof(ParamEcho)));
    manyParams<<<rtest::BlocksFor(n, 192), 192>>>(want.c8, want.u8, want.s16, want.u16, want.i32, want.u32, want.i64,
                                                  want.u64, want.f32, want.f64, want.flag, want.ptr, want.pair,
                                                  want.c8b, want.f64b, want.s16b, want.fptr, want.v3, want.i64b,
                                                  want.c8c, want.i32b, want.f64c, dEcho, dOut, n);
    CUDA_CHECK_LAUNCH();
    ParamEcho got;
    CUDA_CHECK(cudaMemcpy(&got, dEcho, sizeof got, cudaMemcpyDeviceToHost));
#define FIELD(f) CHECKF(std::memcmp(&got.f, &want.f, sizeof want.f) == 0, "round %d: parameter " #f " arrived wrong", round)
    FIELD(c8);
    FIELD(u8);
    FIELD(s16);
    FIELD(u16);
    FIELD(i32);
    FIELD(u32);
    FIELD(i64);
    FIELD(u64);
    FIELD(f32);
    FIELD(f64);
    FIELD(flag);
    FIELD(ptr);
    FIELD(pair.a);
    FIELD(pair.b);
    FIELD(c8b);
    FIELD(f64b);
    FIELD(s16b);
    FIELD(fptr);
    FIELD(v3.x);
    FIELD(v3.y);
    FIELD(v3.z);
    FIELD(i64b);
    FIELD(c8c);
    FIELD(i32b);
    FIELD(f64c);
#undef FIELD

    CUDA_CHECK(cudaMemcpy(out.data(), dOut, n * sizeof(int), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(f.data(), dF, n * sizeof(float), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; ++i) {
      wantOut[i] = in[i] * want.i32b + want.c8 + want.s16 + static_cast<int>(want.u8) + (want.flag ? want.pair.a : 0) +
                   static_cast<int>(want.i64b & 0xff);
      float prod = static_cast<float>(in[i]) * want.v3.x;
      wantF[i] = prod + want.pair.b;
    }
    rtest::ExpectEqual(out, wantOut, "manyParams int output");
    rtest::ExpectEqual(f, wantF, "manyParams float output");
    sum.AddVector(out);
    sum.AddVector(f);
  }

  // 6000-byte struct by value.
  {
    Coeffs coeffs;
    for (float& c : coeffs.v) c = rng.Float(-3.f, 3.f);
    const int m = 100003;
    std::vector<float> x(m), y(m), want(m);
    rng.FillFloats(x, -100.f, 100.f);
    float *dx, *dy;
    CUDA_CHECK(cudaMalloc(&dx, m * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&dy, m * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(dx, x.data(), m * sizeof(float), cudaMemcpyHostToDevice));
    for (int count : {kCoeffCount, 977}) {
      bigParam<<<rtest::BlocksFor(m, 256), 256>>>(coeffs, count, dx, dy, m);
      CUDA_CHECK_LAUNCH();
      CUDA_CHECK(cudaMemcpy(y.data(), dy, m * sizeof(float), cudaMemcpyDeviceToHost));
      for (int i = 0; i < m; ++i) want[i] = x[i] * coeffs.v[i % count];
      rtest::ExpectEqual(y, want, count == kCoeffCount ? "bigParam (6000-byte struct) all coeffs"
                                                       : "bigParam (6000-byte struct) 977 coeffs");
      sum.AddVector(y);
    }
    CUDA_CHECK(cudaFree(dx));
    CUDA_CHECK(cudaFree(dy));
  }

  CUDA_CHECK(cudaFree(dIn));
  CUDA_CHECK(cudaFree(dOut));
  CUDA_CHECK(cudaFree(dF));
  CUDA_CHECK(cudaFree(dEcho));
  return rtest::Pass(sum);
}
