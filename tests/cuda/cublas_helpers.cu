// cublas_helpers: an unmodified cuBLAS program's host-side helpers (linked
// with NVIDIA's libcublas.so.13; through rcuda it binds to rcuda's, whose
// helpers are answered on the client, client/libs/cublas_local.cc):
// cublasSet/GetVector and cublasSet/GetMatrix, their Async and _64 forms, with
// strides and leading dimensions larger than the data, checked element by
// element against the host; the argument checks the real library makes; the
// status names and strings; the library's properties and runtime version.
// Catches a stride applied to the wrong side, a copy off its stream, a
// refusal answered with the wrong status.
#include <cublas_v2.h>

#include <cstring>
#include <vector>

#include "library_session.h"
#include "test_util.h"

#define CUBLAS_CHECK(call) RTEST_LIBRARY_CHECK("cuBLAS", call)
#define CUBLAS_EXPECT(call, expected) RTEST_LIBRARY_EXPECT("cuBLAS", call, expected)

namespace {

std::vector<double> Random(rtest::Rng& rng, size_t n) {
  std::vector<double> v(n);
  for (double& x : v) x = rng.Double(-100.0, 100.0);
  return v;
}

// A device buffer of `n` doubles, filled with a marker so that elements a
// strided copy must not touch can be checked untouched.
double* DeviceMarked(size_t n, double marker) {
  double* d = nullptr;
  CUDA_CHECK(cudaMalloc(&d, n * sizeof(double)));
  std::vector<double> host(n, marker);
  CUDA_CHECK(cudaMemcpy(d, host.data(), n * sizeof(double), cudaMemcpyHostToDevice));
  return d;
}

std::vector<double> Download(const double* d, size_t n) {
  std::vector<double> host(n);
  CUDA_CHECK(cudaMemcpy(host.data(), d, n * sizeof(double), cudaMemcpyDeviceToHost));
  return host;
}

// Vectors: x every 3rd element on the host to every 2nd on the device, and
// back to every 4th on the host; contiguous too (the single-copy path).
void Vectors(rtest::Rng& rng, cudaStream_t stream, rtest::Checksum& sum, bool async, bool wide) {
  const int n = 37;
  const double marker = -7.25;
  std::vector<double> x = Random(rng, 3 * n);
  double* d = DeviceMarked(2 * n, marker);
  cublasStatus_t st;
  if (wide) {
    st = async ? cublasSetVectorAsync_64(n, sizeof(double), x.data(), 3, d, 2, stream)
               : cublasSetVector_64(n, sizeof(double), x.data(), 3, d, 2);
  } else {
    st = async ? cublasSetVectorAsync(n, sizeof(double), x.data(), 3, d, 2, stream)
               : cublasSetVector(n, sizeof(double), x.data(), 3, d, 2);
  }
  CUBLAS_CHECK(st);
  if (async) CUDA_CHECK(cudaStreamSynchronize(stream));
  std::vector<double> on_device = Download(d, 2 * n);
  for (int i = 0; i < n; ++i) {
    CHECKF(on_device[2 * i] == x[3 * i], "SetVector: element %d is %g, expected %g", i, on_device[2 * i], x[3 * i]);
    CHECKF(on_device[2 * i + 1] == marker, "SetVector: the gap after element %d was written", i);
  }
  std::vector<double> y(4 * n, marker);
  if (wide) {
    st = async ? cublasGetVectorAsync_64(n, sizeof(double), d, 2, y.data(), 4, stream)
               : cublasGetVector_64(n, sizeof(double), d, 2, y.data(), 4);
  } else {
    st = async ? cublasGetVectorAsync(n, sizeof(double), d, 2, y.data(), 4, stream)
               : cublasGetVector(n, sizeof(double), d, 2, y.data(), 4);
  }
  CUBLAS_CHECK(st);
  if (async) CUDA_CHECK(cudaStreamSynchronize(stream));
  for (int i = 0; i < n; ++i) {
    CHECKF(y[4 * i] == x[3 * i], "GetVector: element %d is %g, expected %g", i, y[4 * i], x[3 * i]);
    for (int g = 1; g < 4; ++g) CHECKF(y[4 * i + g] == marker, "GetVector: the gap after element %d was written", i);
  }
  // Contiguous both ways.
  std::vector<double> back(n);
  CUBLAS_CHECK(cublasSetVector(n, sizeof(double), x.data(), 1, d, 1));
  CUBLAS_CHECK(cublasGetVector(n, sizeof(double), d, 1, back.data(), 1));
  CHECKF(std::memcmp(back.data(), x.data(), n * sizeof(double)) == 0, "contiguous Set/GetVector round trip");
  sum.AddVector(y);
  CUDA_CHECK(cudaFree(d));
}

// Matrices: rows x cols from lda on the host to ldb on the device and back
// to a third leading dimension; the rows past `rows` in each column are not
// touched.
void Matrices(rtest::Rng& rng, cudaStream_t stream, rtest::Checksum& sum, bool async, bool wide) {
  const int rows = 13, cols = 9, lda = 16, ldb = 14, ldc = 20;
  const double marker = 3.5e10;
  std::vector<double> a = Random(rng, size_t(lda) * cols);
  double* d = DeviceMarked(size_t(ldb) * cols, marker);
  cublasStatus_t st;
  if (wide) {
    st = async ? cublasSetMatrixAsync_64(rows, cols, sizeof(double), a.data(), lda, d, ldb, stream)
               : cublasSetMatrix_64(rows, cols, sizeof(double), a.data(), lda, d, ldb);
  } else {
    st = async ? cublasSetMatrixAsync(rows, cols, sizeof(double), a.data(), lda, d, ldb, stream)
               : cublasSetMatrix(rows, cols, sizeof(double), a.data(), lda, d, ldb);
  }
  CUBLAS_CHECK(st);
  if (async) CUDA_CHECK(cudaStreamSynchronize(stream));
  std::vector<double> on_device = Download(d, size_t(ldb) * cols);
  for (int j = 0; j < cols; ++j) {
    for (int i = 0; i < ldb; ++i) {
      const double want = i < rows ? a[i + size_t(j) * lda] : marker;
      CHECKF(on_device[i + size_t(j) * ldb] == want, "SetMatrix: (%d,%d) is %g, expected %g", i, j,
             on_device[i + size_t(j) * ldb], want);
    }
  }
  std::vector<double> c(size_t(ldc) * cols, marker);
  if (wide) {
    st = async ? cublasGetMatrixAsync_64(rows, cols, sizeof(double), d, ldb, c.data(), ldc, stream)
               : cublasGetMatrix_64(rows, cols, sizeof(double), d, ldb, c.data(), ldc);
  } else {
    st = async ? cublasGetMatrixAsync(rows, cols, sizeof(double), d, ldb, c.data(), ldc, stream)
               : cublasGetMatrix(rows, cols, sizeof(double), d, ldb, c.data(), ldc);
  }
  CUBLAS_CHECK(st);
  if (async) CUDA_CHECK(cudaStreamSynchronize(stream));
  for (int j = 0; j < cols; ++j) {
    for (int i = 0; i < ldc; ++i) {
      const double want = i < rows ? a[i + size_t(j) * lda] : marker;
      CHECKF(c[i + size_t(j) * ldc] == want, "GetMatrix: (%d,%d) is %g, expected %g", i, j, c[i + size_t(j) * ldc],
             want);
    }
  }
  sum.AddVector(c);
  CUDA_CHECK(cudaFree(d));
}

// The real library's answers to bad arguments (measured against
// libcublas.so.13): nonpositive sizes, increments and leading dimensions are
// INVALID_VALUE; nothing to copy succeeds without touching the pointers; a
// leading dimension below the rows, or memory that is not the device's,
// fails as a copy, MAPPING_ERROR.
void Refusals() {
  double x[4] = {1, 2, 3, 4};
  double* d = nullptr;
  CUDA_CHECK(cudaMalloc(&d, 16 * sizeof(double)));
  CUBLAS_EXPECT(cublasSetVector(4, 0, x, 1, d, 1), CUBLAS_STATUS_INVALID_VALUE);
  CUBLAS_EXPECT(cublasSetVector(4, 8, x, 0, d, 1), CUBLAS_STATUS_INVALID_VALUE);
  CUBLAS_EXPECT(cublasGetVector(4, 8, d, 1, x, -1), CUBLAS_STATUS_INVALID_VALUE);
  CUBLAS_EXPECT(cublasSetVector(0, 8, nullptr, 1, nullptr, 1), CUBLAS_STATUS_SUCCESS);
  CUBLAS_EXPECT(cublasSetMatrix(2, 2, 8, x, 0, d, 2), CUBLAS_STATUS_INVALID_VALUE);
  CUBLAS_EXPECT(cublasGetMatrix(2, 2, 8, d, 2, x, 0), CUBLAS_STATUS_INVALID_VALUE);
  CUBLAS_EXPECT(cublasSetMatrix(0, 2, 8, x, 1, d, 1), CUBLAS_STATUS_SUCCESS);
  CUBLAS_EXPECT(cublasSetMatrix(2, 0, 8, x, 2, d, 2), CUBLAS_STATUS_SUCCESS);
  CUBLAS_EXPECT(cublasSetMatrix(4, 1, 8, x, 2, d, 4), CUBLAS_STATUS_MAPPING_ERROR);
  CUBLAS_EXPECT(cublasSetMatrix_64(4, 1, 8, x, 4, d, 2), CUBLAS_STATUS_MAPPING_ERROR);
  // A device pointer that no allocation holds.
  void* nowhere = reinterpret_cast<void*>(uintptr_t{0x10});
  CUBLAS_EXPECT(cublasSetVector(4, 8, x, 1, nowhere, 1), CUBLAS_STATUS_MAPPING_ERROR);
  CUBLAS_EXPECT(cublasGetMatrix(2, 2, 8, nowhere, 2, x, 2), CUBLAS_STATUS_MAPPING_ERROR);
  // The session still serves after them.
  CUBLAS_CHECK(cublasSetVector(4, 8, x, 1, d, 1));
  double back[4] = {};
  CUBLAS_CHECK(cublasGetVector(4, 8, d, 1, back, 1));
  CHECKF(std::memcmp(back, x, sizeof x) == 0, "a copy after the refusals");
  CUDA_CHECK(cudaFree(d));
}

void Names() {
  struct {
    cublasStatus_t status;
    const char* name;
    const char* text;
  } const statuses[] = {
      {CUBLAS_STATUS_SUCCESS, "CUBLAS_STATUS_SUCCESS", "success"},
      {CUBLAS_STATUS_INVALID_VALUE, "CUBLAS_STATUS_INVALID_VALUE",
       "an unsupported value or parameter was passed to the function"},
      {CUBLAS_STATUS_MAPPING_ERROR, "CUBLAS_STATUS_MAPPING_ERROR", "an access to GPU memory space failed"},
      {CUBLAS_STATUS_NOT_SUPPORTED, "CUBLAS_STATUS_NOT_SUPPORTED", "the requested functionality is not supported"},
      {static_cast<cublasStatus_t>(99), "unrecognized status", "unrecognized status"},
  };
  for (const auto& s : statuses) {
    const char* name = cublasGetStatusName(s.status);
    const char* text = cublasGetStatusString(s.status);
    CHECKF(name != nullptr && std::strcmp(name, s.name) == 0, "cublasGetStatusName(%d): %s", int(s.status),
           name ? name : "(null)");
    CHECKF(text != nullptr && std::strcmp(text, s.text) == 0, "cublasGetStatusString(%d): %s", int(s.status),
           text ? text : "(null)");
  }
}

void Properties(rtest::Checksum& sum) {
  int major = -1, minor = -1, patch = -1;
  CUBLAS_CHECK(cublasGetProperty(MAJOR_VERSION, &major));
  CUBLAS_CHECK(cublasGetProperty(MINOR_VERSION, &minor));
  CUBLAS_CHECK(cublasGetProperty(PATCH_LEVEL, &patch));
  CHECKF(major == CUBLAS_VER_MAJOR, "cublasGetProperty(MAJOR_VERSION): %d, expected %d", major, CUBLAS_VER_MAJOR);
  CHECKF(minor >= 0 && patch >= 0, "cublasGetProperty: minor %d, patch %d", minor, patch);
  int ignored = 0;
  CUBLAS_EXPECT(cublasGetProperty(static_cast<libraryPropertyType>(7), &ignored), CUBLAS_STATUS_INVALID_VALUE);
  CHECKF(cublasGetCudartVersion() == CUDART_VERSION, "cublasGetCudartVersion: %zu, expected %d",
         cublasGetCudartVersion(), CUDART_VERSION);
  sum.AddValue(major);
  std::printf("cuBLAS %d.%d.%d, built with CUDA runtime %zu\n", major, minor, patch, cublasGetCudartVersion());
}

}  // namespace

int main() {
  rtest::Rng rng = rtest::Init("cublas_helpers");
  rtest::Checksum sum;
  cudaStream_t stream = nullptr;
  // A blocking stream: the marker uploads (cudaMemcpy on the legacy stream,
  // whose DMA from pageable memory may still run when it returns, as CUDA
  // documents) are ordered before the Async helpers' copies.
  CUDA_CHECK(cudaStreamCreate(&stream));
  for (bool async : {false, true}) {
    for (bool wide : {false, true}) {
      Vectors(rng, stream, sum, async, wide);
      Matrices(rng, stream, sum, async, wide);
    }
  }
  Refusals();
  Names();
  Properties(sum);
  CUDA_CHECK(cudaStreamDestroy(stream));
  return rtest::Pass(sum);
}
