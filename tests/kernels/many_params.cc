// Host kernels of tests/cuda/many_params.cu.
#include "many_params.h"

#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z10manyParamschstijxyfdbPKi4PaircdsPf4Vec3xcidP9ParamEchoPii", many_params) {
  ParamEcho p;
  p.c8 = Param<char>(launch, 0);
  p.u8 = Param<unsigned char>(launch, 1);
  p.s16 = Param<short>(launch, 2);
  p.u16 = Param<unsigned short>(launch, 3);
  p.i32 = Param<int>(launch, 4);
  p.u32 = Param<unsigned>(launch, 5);
  p.i64 = Param<long long>(launch, 6);
  p.u64 = Param<unsigned long long>(launch, 7);
  p.f32 = Param<float>(launch, 8);
  p.f64 = Param<double>(launch, 9);
  p.flag = Param<bool>(launch, 10);
  p.ptr = Param<const int*>(launch, 11);
  p.pair = Param<Pair>(launch, 12);
  p.c8b = Param<char>(launch, 13);
  p.f64b = Param<double>(launch, 14);
  p.s16b = Param<short>(launch, 15);
  p.fptr = Param<float*>(launch, 16);
  p.v3 = Param<Vec3>(launch, 17);
  p.i64b = Param<long long>(launch, 18);
  p.c8c = Param<char>(launch, 19);
  p.i32b = Param<int>(launch, 20);
  p.f64c = Param<double>(launch, 21);
  auto echo = Param<ParamEcho*>(launch, 22);
  auto arr_out = Param<int*>(launch, 23);
  auto n = Param<int>(launch, 24);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i == 0) {
      // Field by field, as the GPU kernel does: padding bytes stay as they were.
      echo->c8 = p.c8;
      echo->u8 = p.u8;
      echo->s16 = p.s16;
      echo->u16 = p.u16;
      echo->i32 = p.i32;
      echo->u32 = p.u32;
      echo->i64 = p.i64;
      echo->u64 = p.u64;
      echo->f32 = p.f32;
      echo->f64 = p.f64;
      echo->flag = p.flag;
      echo->ptr = p.ptr;
      echo->pair = p.pair;
      echo->c8b = p.c8b;
      echo->f64b = p.f64b;
      echo->s16b = p.s16b;
      echo->fptr = p.fptr;
      echo->v3 = p.v3;
      echo->i64b = p.i64b;
      echo->c8c = p.c8c;
      echo->i32b = p.i32b;
      echo->f64c = p.f64c;
    }
    if (i < n) {
      arr_out[i] = p.ptr[i] * p.i32b + p.c8 + p.s16 + static_cast<int>(p.u8) + (p.flag ? p.pair.a : 0) +
                   static_cast<int>(p.i64b & 0xff);
      float prod = static_cast<float>(p.ptr[i]) * p.v3.x;
      p.fptr[i] = prod + p.pair.b;
    }
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z8bigParam6CoeffsiPKfPfi", big_param) {
  // 6000 bytes: read in place rather than copied to the stack per call.
  if (launch->param_count != 5 || launch->param_sizes[0] != sizeof(Coeffs)) return kInvalidValue;
  const uint8_t* coeffs = launch->params + launch->param_offsets[0];
  auto count = Param<int>(launch, 1);
  auto x = Param<const float*>(launch, 2);
  auto y = Param<float*>(launch, 3);
  auto n = Param<int>(launch, 4);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) {
      float c;
      std::memcpy(&c, coeffs + sizeof(float) * (i % count), sizeof c);
      y[i] = x[i] * c;
    }
  });
  return 0;
}
