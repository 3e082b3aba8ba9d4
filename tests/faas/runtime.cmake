# Function definitions and the function runtime (rcuda-fn): unit tests and
# the runtime's tests through its HTTP API with an in-memory object store
# (TEST EQUIPMENT, runtime_memory_object_store.h).
if(NOT TARGET rcuda_faas_function)
  return()
endif()
find_package(nlohmann_json CONFIG REQUIRED)

add_executable(faas_function_tests ${CMAKE_CURRENT_LIST_DIR}/function_fdl_test.cc)
target_link_libraries(faas_function_tests PRIVATE rcuda_faas_function nlohmann_json::nlohmann_json rcuda_catch_main)
set_target_properties(faas_function_tests PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/faas)
add_test(NAME faas.function.fdl COMMAND faas_function_tests "[fdl]" --warn NoTests)
set_tests_properties(faas.function.fdl PROPERTIES LABELS "faas" TIMEOUT 60)

if(NOT TARGET rcuda_faas_runtime)
  return()
endif()
find_package(PkgConfig REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

add_executable(faas_runtime_tests
  ${CMAKE_CURRENT_LIST_DIR}/runtime_exec_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime_invoke_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime_deploy_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime_sandbox_test.cc)
target_link_libraries(faas_runtime_tests PRIVATE rcuda_faas_runtime rcuda_lease_token PkgConfig::HTTPLIB
  nlohmann_json::nlohmann_json rcuda_catch_main)
target_include_directories(faas_runtime_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(faas_runtime_tests PRIVATE
  RCUDA_FN_EXEC_PATH="$<TARGET_FILE:rcuda-fn-exec>"
  RCUDA_BIN_DIR="${CMAKE_BINARY_DIR}/bin"
  RCUDA_LIB_DIR="${CMAKE_BINARY_DIR}/lib")
add_dependencies(faas_runtime_tests rcuda-fn-exec)
set_target_properties(faas_runtime_tests PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/faas)
# The CUDA program through rcuda-run on a leased rcuda-server (test backend).
if(TARGET rcuda-server AND TARGET rcuda-run AND TARGET rcuda_cudart AND TARGET vector_add
   AND TARGET rcuda_test_kernels)
  target_sources(faas_runtime_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/runtime_rcuda_test.cc)
  target_compile_definitions(faas_runtime_tests PRIVATE
    RCUDA_SERVER_PATH="$<TARGET_FILE:rcuda-server>"
    RCUDA_VECTOR_ADD="$<TARGET_FILE:vector_add>"
    RCUDA_TEST_KERNELS="$<TARGET_FILE:rcuda_test_kernels>")
  add_dependencies(faas_runtime_tests rcuda-server rcuda-run rcuda_cudart vector_add rcuda_test_kernels)
  set(_faas_rcuda_area rcuda)
endif()

# [sandbox] cases skip, saying why, where bwrap cannot make its namespaces.
foreach(area exec invoke deploy sandbox ${_faas_rcuda_area})
  add_test(NAME faas.runtime.${area} COMMAND faas_runtime_tests "[${area}]" --warn NoTests)
  set_tests_properties(faas.runtime.${area} PROPERTIES LABELS "faas" TIMEOUT 120)
endforeach()

# The real binaries with s3rver and redis-server (TEST EQUIPMENT), without the
# orchestrator: rcuda-faas deploy/upload/progress/results/dead-letters,
# rcuda-faas-watcher, rcuda-fn.
if(TARGET rcuda-faas AND TARGET rcuda-fn AND TARGET rcuda-faas-watcher)
  add_test(NAME faas.runtime.e2e COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/runtime_e2e.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(faas.runtime.e2e PROPERTIES LABELS "faas" TIMEOUT 120)
endif()
