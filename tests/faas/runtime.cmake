# Function definitions and the function runtime (rcuda-fn): unit tests and
# the runtime's tests through its HTTP API with an in-memory object store
# (TEST EQUIPMENT, runtime_memory_object_store.h).
if(NOT TARGET rcuda_faas_function)
  return()
endif()
find_package(nlohmann_json CONFIG REQUIRED)

add_executable(faas_function_tests ${CMAKE_CURRENT_LIST_DIR}/runtime_main.cc
  ${CMAKE_CURRENT_LIST_DIR}/function_fdl_test.cc)
target_link_libraries(faas_function_tests PRIVATE rcuda_faas_function nlohmann_json::nlohmann_json Catch2::Catch2)
set_target_properties(faas_function_tests PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/faas)
add_test(NAME faas.function.fdl COMMAND faas_function_tests "[fdl]" --warn NoTests)
set_tests_properties(faas.function.fdl PROPERTIES LABELS "faas" TIMEOUT 60)

if(NOT TARGET rcuda_faas_runtime)
  return()
endif()
