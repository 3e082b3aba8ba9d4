# Each library's include path gives it its own folder and, through its
# dependencies, theirs: no more. Sources include "<folder>/x.h" from the
# repository root; rather than the root itself (which would let client/
# include server/ and the reverse), a library's include path is
# build/include-scopes/<folder>, holding one link: <folder> -> the source
# folder. So client/ sees client/, protocol/, common/ and not server/.
# tests/lint/includes.sh checks the same rule over the sources.
#
#   rcuda_include_scope(<target> PUBLIC|PRIVATE <folder>...)
function(rcuda_include_scope target visibility)
  foreach(folder IN LISTS ARGN)
    set(scope ${CMAKE_BINARY_DIR}/include-scopes/${folder})
    file(MAKE_DIRECTORY ${scope})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${folder} ${scope}/${folder} SYMBOLIC)  # replaces an old one
    target_include_directories(${target} ${visibility} ${scope})
  endforeach()
endfunction()
