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
# rcuda_sanitizer_tests: every program and library of the build but the
# benchmarks' and the serverless pipeline's (what the sanitizer stage's tests
# may run: no test of its labels runs faas/ or bench/ code; those are built
# and tested by the main stage, and CI's time is better spent there).

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

# Defined once every directory is read, from the targets that exist then:
# every executable and shared library of the project except the benchmarks'
# and faas/'s (no test of the stage runs them). A denylist rather than a list of what the
# tests need, so that a new test program cannot be left out (a missing
# program makes ctest report "Not Run", which is not a pass).
function(_rcuda_collect_targets _dir _out)
  get_property(_targets DIRECTORY ${_dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(_subdirs DIRECTORY ${_dir} PROPERTY SUBDIRECTORIES)
  set(_found "")
  foreach(_target IN LISTS _targets)
    get_target_property(_type ${_target} TYPE)
    if(_type MATCHES "^(EXECUTABLE|SHARED_LIBRARY|MODULE_LIBRARY)$")
      list(APPEND _found ${_target})
    endif()
  endforeach()
  foreach(_subdir IN LISTS _subdirs)
    if(_subdir MATCHES "/(bench|faas|tests/faas)(/|$)")
      continue()
    endif()
    _rcuda_collect_targets(${_subdir} _below)
    list(APPEND _found ${_below})
  endforeach()
  set(${_out} ${_found} PARENT_SCOPE)
endfunction()

function(rcuda_define_sanitizer_tests_target)
  _rcuda_collect_targets(${CMAKE_SOURCE_DIR} _deps)
  # The BLAST benchmark's and the scheduler's end-to-end programs run in no
  # test of the stage, nor do the parsers' own ASan build (all of build-asan
  # is one) and the fake driver's unit tests (label fake-driver).
  list(REMOVE_ITEM _deps gpu_blastp gpu_blastp_makedb gpu_blastp_test_kernels lease_alloc
       rcuda_parser_tests_asan fake_driver_unit_tests fake_driver_test_kernels)
  add_custom_target(rcuda_sanitizer_tests DEPENDS ${_deps})
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL rcuda_define_sanitizer_tests_target)
