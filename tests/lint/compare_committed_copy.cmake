# Fails when a committed copy of a generated file differs from what the build
# generated. Run with cmake -P:
#   -DGENERATED=<build file> -DCOMMITTED=<source file> -DTARGET=<build target>
if(NOT EXISTS "${GENERATED}")
  message(FATAL_ERROR "${GENERATED} does not exist: build the target ${TARGET} first")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${GENERATED}" "${COMMITTED}"
                RESULT_VARIABLE differs)
if(differs)
  message(FATAL_ERROR
    "${COMMITTED} is out of date (it differs from the generated ${GENERATED}).\n"
    "Refresh it: ninja -C <build> ${TARGET} && cp ${GENERATED} ${COMMITTED}")
endif()
message(STATUS "${COMMITTED} matches ${GENERATED}")
