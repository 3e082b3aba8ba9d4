# RCUDA_FUZZ=ON: the configuration that builds tests/fuzz's libFuzzer targets
# (scripts/fuzz.sh makes it in build-fuzz/). libFuzzer comes with clang, so
# this configuration is clang's; the project itself is g++'s, in build/.
#
# Everything compiled here gets libFuzzer's coverage instrumentation and
# AddressSanitizer + UndefinedBehaviorSanitizer, so that the fuzzers see
# the libraries they call (rcuda_common, rcuda_protocol, ...). Build only the
# target rcuda_fuzzers: it needs those libraries and nothing else.

if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "RCUDA_FUZZ=ON needs clang (libFuzzer is clang's): configure with "
                      "-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++, as scripts/fuzz.sh does")
endif()
if(RCUDA_BUILD_CUDA_PROGRAMS)
  message(FATAL_ERROR "RCUDA_FUZZ=ON builds no CUDA program: add -DRCUDA_BUILD_CUDA_PROGRAMS=OFF")
endif()

set(RCUDA_FUZZ_FLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -gline-tables-only)
add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:${RCUDA_FUZZ_FLAGS}>")
add_link_options("$<$<LINK_LANGUAGE:C,CXX>:-fsanitize=address,undefined>")
