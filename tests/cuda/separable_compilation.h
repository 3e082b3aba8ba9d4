// Shared between the translation units of tests/cuda/separable_compilation*
// (built with -rdc=true) and their host kernels (tests/kernels).
#pragma once

constexpr int kSepN = 1000;
constexpr float kSepOffsetInit = 1.5f;  // sepOffset's initial value, from the image
