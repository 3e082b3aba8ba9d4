# RCUDA_SANITIZE=<list>: every C and C++ target of this configuration is
# built with those sanitizers, e.g. -DRCUDA_SANITIZE=address,undefined (what
# scripts/test.sh's sanitizer stage makes in build-asan/). CUDA code (nvcc)
# is left as it is: rcuda's code is what is checked.
#
# A finding stops the program at once (-fno-sanitize-recover), so that a test
# cannot pass over a report. Run-time options and the suppressions of
# third-party findings: tests/sanitizers/ (scripts/test.sh sets them).
#
# RCUDA_REUSE_CUDA_FROM=<main build dir>: take the CUDA programs' objects and
# the unit tests' nvcc outputs from that build (same sources, same CUDA
# flags) instead of running nvcc again (cmake/reuse_nvcc_output.sh).
#
# rcuda_sanitizer_tests: what the sanitizer stage's tests need (unit,
# transport, integration, scheduler, the fuzz corpus replays), and nothing
# else of the build (benchmarks, the fake driver).

set(RCUDA_SANITIZE "" CACHE STRING "Sanitizers for every C/C++ target, e.g. address,undefined")
set(RCUDA_REUSE_CUDA_FROM "" CACHE PATH "A build of the same sources whose nvcc outputs this build takes")

if(RCUDA_SANITIZE)
  set(_flags -fsanitize=${RCUDA_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:${_flags}>")
  # g++ 12 under ASan warns of uninitialized reads inside libstdc++'s own
  # <regex> and <functional> (false positives, known to GCC): not ours.
  add_compile_options("$<$<COMPILE_LANG_AND_ID:CXX,GNU>:-Wno-maybe-uninitialized>")
  add_link_options("$<$<LINK_LANGUAGE:C,CXX>:-fsanitize=${RCUDA_SANITIZE}>")
  message(STATUS "sanitizers: ${RCUDA_SANITIZE}")
endif()

if(RCUDA_REUSE_CUDA_FROM)
  get_filename_component(_twin ${RCUDA_REUSE_CUDA_FROM} ABSOLUTE)
  if(NOT EXISTS ${_twin}/CMakeCache.txt)
    message(FATAL_ERROR "RCUDA_REUSE_CUDA_FROM: ${_twin} is not a build directory")
  endif()
  set(_launcher ${CMAKE_SOURCE_DIR}/cmake/reuse_nvcc_output.sh ${CMAKE_BINARY_DIR} ${_twin})
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${_launcher})
  set(RCUDA_NVCC ${_launcher} ${RCUDA_NVCC})
  message(STATUS "nvcc outputs taken from ${_twin} when it has them")
endif()

# Defined once every directory is read, from the targets that exist then.
function(rcuda_define_sanitizer_tests_target)
  get_property(_programs GLOBAL PROPERTY RCUDA_CUDA_PROGRAMS)
  # The BLAST benchmark's and the scheduler's end-to-end programs run in no
  # test of the stage.
  list(REMOVE_ITEM _programs gpu_blastp lease_alloc)
  set(_wanted rcuda_unit_tests rcuda_transport_tests rcuda_fault_tests rcuda_test_kernels list-plugin-kernels
              examples_test_kernels scheduler_unit_tests scheduler_integration_tests ${_programs})
  foreach(_name frame fatbin cubin ptx lease_token ssgmd_request journal)
    list(APPEND _wanted rcuda_fuzz_replay_${_name})
  endforeach()
  set(_deps "")
  foreach(_target IN LISTS _wanted)
    if(TARGET ${_target})
      list(APPEND _deps ${_target})
    endif()
  endforeach()
  add_custom_target(rcuda_sanitizer_tests DEPENDS ${_deps})
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL rcuda_define_sanitizer_tests_target)
