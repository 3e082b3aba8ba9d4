# Generates two tables of the fake CUDA driver from the toolkit's own headers,
# so that they follow the toolkit rather than a hand-written copy:
#   abi_versions.inc  every {"cuName", version} that cudaTypedefs.h (and
#                     cudaProfilerTypedefs.h) has a
#                     PFN_cuName_v<version> prototype for (the ABI versions
#                     cuGetProcAddress chooses between);
#   cuda_results.inc  every CUresult: X(value, "CUDA_ERROR_NAME", "text"),
#                     the text being the first sentence of cuda.h's comment.
#
#   cmake -DCUDA_INCLUDE=<dir> -DOUT=<dir> -P gen_tables.cmake

file(READ ${CUDA_INCLUDE}/cudaTypedefs.h typedefs)
file(READ ${CUDA_INCLUDE}/cudaProfilerTypedefs.h profiler_typedefs)
string(APPEND typedefs "${profiler_typedefs}")
string(REGEX MATCHALL "PFN_cu[A-Za-z0-9_]*_v[0-9]+\\)" prototypes "${typedefs}")
set(lines "")
foreach(p IN LISTS prototypes)
  # _ptsz/_ptds variants end in letters, so they do not match "_v<digits>)".
  string(REGEX REPLACE "^PFN_(cu[A-Za-z0-9_]*)_v([0-9]+)\\)$" "{\"\\1\", \\2}," line "${p}")
  list(APPEND lines "${line}")
endforeach()
list(REMOVE_DUPLICATES lines)
list(LENGTH lines count)
if(count LESS 300)
  message(FATAL_ERROR "gen_tables.cmake: only ${count} PFN prototypes in cudaTypedefs.h")
endif()
string(REPLACE ";" "\n" body "${lines}")
file(WRITE ${OUT}/abi_versions.inc.tmp "// Generated from cudaTypedefs.h by gen_tables.cmake.\n${body}\n")
file(COPY_FILE ${OUT}/abi_versions.inc.tmp ${OUT}/abi_versions.inc ONLY_IF_DIFFERENT)

file(READ ${CUDA_INCLUDE}/cuda.h cuda_h)
string(FIND "${cuda_h}" "typedef enum cudaError_enum {" begin)
string(FIND "${cuda_h}" "} CUresult;" end)
if(begin LESS 0 OR end LESS begin)
  message(FATAL_ERROR "gen_tables.cmake: no CUresult enum in cuda.h")
endif()
math(EXPR length "${end} - ${begin}")
string(SUBSTRING "${cuda_h}" ${begin} ${length} enum)
# CMake lists split on ';', which comments contain: protect them first.
string(REPLACE ";" "," enum "${enum}")
string(REGEX MATCHALL "/\\*\\*([^*]|\\*+[^*/])*\\*+/[ \t\r\n]*CUDA_[A-Z0-9_]+[ \t]*=[ \t]*[0-9]+" entries "${enum}")
set(lines "")
foreach(e IN LISTS entries)
  string(REGEX MATCH "(CUDA_[A-Z0-9_]+)[ \t]*=[ \t]*([0-9]+)$" _ "${e}")
  set(name ${CMAKE_MATCH_1})
  set(value ${CMAKE_MATCH_2})
  string(REGEX REPLACE "[ \t\r\n]*CUDA_[A-Z0-9_]+[ \t]*=[ \t]*[0-9]+$" "" comment "${e}")
  string(REGEX REPLACE "^/\\*\\*" "" comment "${comment}")
  string(REGEX REPLACE "\\*+/$" "" comment "${comment}")
  string(REGEX REPLACE "\n[ \t]*\\*" " " comment "${comment}")
  string(REGEX REPLACE "\\\\deprecated" "(deprecated)" comment "${comment}")
  string(REGEX REPLACE "::" "" comment "${comment}")
  string(REGEX REPLACE "[ \t\r\n]+" " " comment "${comment}")
  string(STRIP "${comment}" comment)
  # The first sentence is the message.
  string(REGEX REPLACE "^([^.]*\\.)( .*)?$" "\\1" comment "${comment}")
  string(REPLACE "\\" "\\\\" comment "${comment}")
  string(REPLACE "\"" "\\\"" comment "${comment}")
  list(APPEND lines "X(${value}, \"${name}\", \"${comment}\")")
endforeach()
list(LENGTH lines count)
if(count LESS 90)
  message(FATAL_ERROR "gen_tables.cmake: only ${count} CUresult values in cuda.h")
endif()
string(REPLACE ";" "\n" body "${lines}")
file(WRITE ${OUT}/cuda_results.inc.tmp "// Generated from cuda.h by gen_tables.cmake.\n${body}\n")
file(COPY_FILE ${OUT}/cuda_results.inc.tmp ${OUT}/cuda_results.inc ONLY_IF_DIFFERENT)
