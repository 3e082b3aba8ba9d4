// Host kernels of tests/cuda/struct_by_value.cu.
#include "struct_by_value.h"

#include "host_kernel_util.h"

using namespace rcuda::testk;

RCUDA_TEST_KERNEL("_Z11echoStructs5Small7Packed35Mixed9Aligned165Vec326NestedP4Echo", echo_structs) {
  auto small = Param<Small>(launch, 0);
  auto packed = Param<Packed3>(launch, 1);
  auto mixed = Param<Mixed>(launch, 2);
  auto aligned = Param<Aligned16>(launch, 3);
  auto vec = Param<Vec32>(launch, 4);
  auto nested = Param<Nested>(launch, 5);
  auto out = Param<Echo*>(launch, 6);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    if (bi.x == 0 && ti.x == 0) {
      out->small = small;
      out->packed = packed;
      out->mixed = mixed;
      out->aligned = aligned;
      out->vec = vec;
      out->nested = nested;
    }
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z8echoTagsc9Aligned16c5Vec32P4Echo", echo_tags) {
  auto tag1 = Param<char>(launch, 0);
  auto aligned = Param<Aligned16>(launch, 1);
  auto tag2 = Param<char>(launch, 2);
  auto vec = Param<Vec32>(launch, 3);
  auto out = Param<Echo*>(launch, 4);
  ForEachThread(launch, [&](rcuda_dim3, rcuda_dim3 ti) {
    if (ti.x == 0) {
      out->tag1 = tag1;
      out->aligned = aligned;
      out->tag2 = tag2;
      out->vec = vec;
    }
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z10applyRange5Range5Small", apply_range) {
  auto r = Param<Range>(launch, 0);
  auto bias = Param<Small>(launch, 1);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < r.n) r.dst[i] = r.src[i] * r.scale + bias.i + bias.c;
  });
  return 0;
}

RCUDA_TEST_KERNEL("_Z7combine5Vec325Mixed9Aligned166NestedPdi", combine) {
  auto vec = Param<Vec32>(launch, 0);
  auto mixed = Param<Mixed>(launch, 1);
  auto aligned = Param<Aligned16>(launch, 2);
  auto nested = Param<Nested>(launch, 3);
  auto out = Param<double*>(launch, 4);
  auto n = Param<int>(launch, 5);
  ForEachThread(launch, [&](rcuda_dim3 bi, rcuda_dim3 ti) {
    int i = static_cast<int>(GlobalX(launch, bi, ti));
    if (i < n) {
      double v = static_cast<double>(i) * vec.x;
      v = v + mixed.d;
      v = v + static_cast<double>(aligned.v[i % 3]);
      v = v + static_cast<double>(nested.ll);
      out[i] = v;
    }
  });
  return 0;
}
