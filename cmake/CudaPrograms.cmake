# Helpers for CUDA programs that rcuda carries: examples, test programs and
# benchmarks. They are ordinary CUDA programs built by nvcc with
# -cudart=shared, so that they import libcudart.so.13 and rcuda's client
# library can stand in for it. Nothing here links rcuda into them.

set(RCUDA_CUDA_ARCH 90 CACHE STRING "GPU architecture CUDA programs are built for (sm_XX)")

# rcuda_add_cuda_program(<name> SOURCES <files...> [OUTPUT_DIR <dir>] [LIBS <libs...>])
# Builds an unmodified CUDA program (shared runtime) and records it in the
# global list RCUDA_CUDA_PROGRAMS, which tests/gpu/run.sh reads from
# build/cuda-programs.txt.
function(rcuda_add_cuda_program name)
  cmake_parse_arguments(A "" "OUTPUT_DIR" "SOURCES;LIBS" ${ARGN})
  if(NOT A_OUTPUT_DIR)
    set(A_OUTPUT_DIR ${CMAKE_BINARY_DIR}/tests/cuda)
  endif()
  add_executable(${name} ${A_SOURCES})
  set_target_properties(${name} PROPERTIES
    CUDA_RUNTIME_LIBRARY Shared
    CUDA_STANDARD 17
    CUDA_ARCHITECTURES ${RCUDA_CUDA_ARCH}
    RUNTIME_OUTPUT_DIRECTORY ${A_OUTPUT_DIR})
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Wno-deprecated-gpu-targets>)
  if(A_LIBS)
    target_link_libraries(${name} PRIVATE ${A_LIBS})
  endif()
  set_property(GLOBAL APPEND PROPERTY RCUDA_CUDA_PROGRAMS ${name})
endfunction()

# rcuda_add_remote_test(<test-name> PROGRAM <target> [ARGS <args...>] [TIMEOUT <s>] [ENV <k=v...>])
# A CTest test that starts rcuda-server with the TEST backend (host memory,
# host kernels from the rcuda_test_kernels plugin), runs the program through
# rcuda-run against it and passes if the program exits 0. Two variants: the
# client picks its transport itself (shared memory, the server being local),
# and remote_tcp.<name> forces TCP.
function(rcuda_add_remote_test test_name)
  cmake_parse_arguments(A "" "PROGRAM;TIMEOUT" "ARGS;ENV" ${ARGN})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 120)
  endif()
  add_test(NAME remote.${test_name}
    COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/run_remote.sh $<TARGET_FILE:${A_PROGRAM}> ${A_ARGS})
  set_tests_properties(remote.${test_name} PROPERTIES
    TIMEOUT ${A_TIMEOUT}
    ENVIRONMENT "RCUDA_BUILD_DIR=${CMAKE_BINARY_DIR};${A_ENV}"
    LABELS "integration")
  add_test(NAME remote_tcp.${test_name}
    COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/run_remote.sh $<TARGET_FILE:${A_PROGRAM}> ${A_ARGS})
  set_tests_properties(remote_tcp.${test_name} PROPERTIES
    TIMEOUT ${A_TIMEOUT}
    ENVIRONMENT "RCUDA_BUILD_DIR=${CMAKE_BINARY_DIR};RCUDA_TRANSPORT=tcp;${A_ENV}"
    LABELS "integration")
endfunction()
