// A struct parameter of tests/cuda/func_attributes.cu, shared with its host
// kernels (tests/kernels/func_attributes.cc).
#pragma once

struct Vec3i {
  int x, y, z;
};
