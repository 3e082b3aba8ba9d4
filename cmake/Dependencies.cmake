# Third-party dependencies, all from Debian packages (see scripts/install-deps.sh).
# Everything is linked header-only or statically, so that a build made on one
# machine runs on a GPU machine that has none of these packages installed.

find_package(Threads REQUIRED)
find_package(CUDAToolkit REQUIRED)
find_package(FlatBuffers CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_program(FLATC flatc REQUIRED)
find_package(Python3 REQUIRED COMPONENTS Interpreter)

# Asio standalone is header-only.
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(rcuda_asio INTERFACE)
target_include_directories(rcuda_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(rcuda_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(rcuda_asio INTERFACE Threads::Threads)

# spdlog compiled once, statically, by rcuda itself (common/spdlog_compiled.cc:
# Debian ships it only as a shared library, which a GPU machine without the
# package lacks), over header-only fmt. Position-independent: the client
# libraries are shared objects.
find_path(SPDLOG_INCLUDE_DIR spdlog/spdlog.h REQUIRED)
add_library(rcuda_spdlog STATIC ${PROJECT_SOURCE_DIR}/common/spdlog_compiled.cc)
set_target_properties(rcuda_spdlog PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_include_directories(rcuda_spdlog SYSTEM PUBLIC ${SPDLOG_INCLUDE_DIR})
target_compile_definitions(rcuda_spdlog PUBLIC SPDLOG_FMT_EXTERNAL SPDLOG_COMPILED_LIB)
target_link_libraries(rcuda_spdlog PUBLIC fmt::fmt-header-only Threads::Threads)

# flatbuffers runtime: headers only (we never use reflection).
get_target_property(FLATBUFFERS_INCLUDE_DIR flatbuffers::flatbuffers INTERFACE_INCLUDE_DIRECTORIES)
add_library(rcuda_flatbuffers INTERFACE)
target_include_directories(rcuda_flatbuffers SYSTEM INTERFACE ${FLATBUFFERS_INCLUDE_DIR})

# Compression used by nvcc for fatbinary entries; linked statically.
find_library(ZSTD_STATIC libzstd.a REQUIRED)
find_library(LZ4_STATIC liblz4.a REQUIRED)

# CUDA headers only: rcuda never links the real runtime or driver.
# The driver (libcuda.so.1) and NVML are opened with dlopen at run time.
add_library(rcuda_cuda_headers INTERFACE)
target_include_directories(rcuda_cuda_headers SYSTEM INTERFACE ${CUDAToolkit_INCLUDE_DIRS})

set(RCUDA_NVCC ${CUDAToolkit_NVCC_EXECUTABLE})
if(NOT RCUDA_NVCC)
  set(RCUDA_NVCC ${CUDAToolkit_BIN_DIR}/nvcc)
endif()

# UCX (optional; libucx-dev): the InfiniBand/RoCE transport, protocol/ucx.
# Only its headers are used when building: libucp.so.0 is opened at run
# time, so the build still runs where UCX is not installed.
option(RCUDA_WITH_UCX "Build the UCX transport when UCX's headers are found" ON)
set(RCUDA_HAVE_UCX OFF)
if(RCUDA_WITH_UCX)
  find_package(ucx CONFIG QUIET)
  if(ucx_FOUND)
    set(RCUDA_HAVE_UCX ON)
    message(STATUS "UCX ${ucx_VERSION}: building the UCX transport")
  else()
    message(STATUS "UCX not found (libucx-dev): building without the UCX transport")
  endif()
endif()
