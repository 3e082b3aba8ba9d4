# rcuda-orchestrator: its parts (with a fake ssgmd and a fake function
# endpoint, TEST EQUIPMENT) and the reliability cases, where the whole
# pipeline runs as processes on 127.0.0.1 (redis-server, s3rver, rcuda-server
# with the test backend, ssgmd, rcuda-gpu-monitor with an inventory, rcuda-fn,
# rcuda-orchestrator), each stopped by its pid. One CTest entry per case.
if(NOT TARGET rcuda-orchestrator OR NOT TARGET rcuda_faas_storage)
  return()
endif()
find_package(OpenSSL REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(FAAS_ORCH_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

add_executable(faas_orchestrator_tests
  ${CMAKE_CURRENT_LIST_DIR}/harness.cc
  ${CMAKE_CURRENT_LIST_DIR}/orchestrator_test.cc)
target_include_directories(faas_orchestrator_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(faas_orchestrator_tests PRIVATE
  FAAS_S3RVER_LOCK_SHA256="${FAAS_S3RVER_LOCK_SHA256}"
  RCUDA_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
target_link_libraries(faas_orchestrator_tests PRIVATE rcuda_faas_orchestrator rcuda_faas_storage
  PkgConfig::FAAS_ORCH_HTTPLIB OpenSSL::Crypto rcuda_catch_main)
set_target_properties(faas_orchestrator_tests PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/faas)

set(_faas_orch_cases orchestrator-unit)
if(TARGET rcuda-fn AND TARGET rcuda-server AND TARGET ssgmd AND TARGET rcuda-gpu-monitor AND TARGET rcuda-run
   AND TARGET rcuda_cudart AND TARGET vector_add AND TARGET rcuda_test_kernels)
  target_sources(faas_orchestrator_tests PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/orchestrator_fixture.cc
    ${CMAKE_CURRENT_LIST_DIR}/reliability_test.cc)
  target_compile_definitions(faas_orchestrator_tests PRIVATE
    RCUDA_SERVER_PATH="$<TARGET_FILE:rcuda-server>"
    RCUDA_VECTOR_ADD="$<TARGET_FILE:vector_add>"
    RCUDA_TEST_KERNELS="$<TARGET_FILE:rcuda_test_kernels>"
    RCUDA_CUDART_DIR="$<TARGET_FILE_DIR:rcuda_cudart>")
  add_dependencies(faas_orchestrator_tests rcuda-orchestrator rcuda-fn rcuda-fn-exec rcuda-server ssgmd ssgm
    rcuda-gpu-monitor rcuda-run rcuda_cudart vector_add rcuda_test_kernels)
  list(APPEND _faas_orch_cases orchestrator-burst orchestrator-nonblocking reliability-function
       reliability-orchestrator-kill reliability-ssgmd-restart reliability-server-kill reliability-fn-restart
       reliability-s3-redis)
endif()
add_dependencies(faas_orchestrator_tests rcuda-orchestrator)

foreach(case IN LISTS _faas_orch_cases)
  add_test(NAME faas.${case} COMMAND faas_orchestrator_tests "[${case}]" --warn NoTests)
  set_tests_properties(faas.${case} PROPERTIES LABELS "faas;orchestrator" TIMEOUT 150)
endforeach()
