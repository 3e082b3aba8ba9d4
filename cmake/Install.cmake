# What `cmake --install` puts in place, by component (one Debian package each,
# cmake/Packaging.cmake). README.md, "Installing and packages".
#
#   client     rcuda-run and lib/rcuda/: libcudart.so.13, libcuda.so.1 (the
#              driver API) and the math libraries' replacements
#              (libcublas.so.13...), for machines without GPUs
#   server     rcuda-server, rcuda-gpu-monitor, their units, example configs
#   scheduler  ssgmd, ssgm, ssgmd's unit, example config
#   faas       the serverless programs (faas/), when they are built
#
# rcuda's libcudart.so.13 and the other client libraries go to
# <prefix>/lib/rcuda, a directory the dynamic linker never searches by
# itself, so that they cannot shadow NVIDIA's libraries by accident;
# rcuda-run finds it as ../lib/rcuda from its own location (the same layout
# as build/bin and build/lib/rcuda). No namelinks (libcudart.so): nothing is
# meant to link against them. Each finds libcudart.so.13 through its RUNPATH
# ($ORIGIN).
#
# Test equipment is not installed: the install rules below name each shipped
# file, and the fake driver (tests/fake_driver) is none of them.

set(RCUDA_INSTALL_CLIENT_LIBDIR lib/rcuda)
if(NOT CMAKE_INSTALL_BINDIR MATCHES "^[^/]+$")
  message(WARNING "CMAKE_INSTALL_BINDIR=${CMAKE_INSTALL_BINDIR}: rcuda-run looks for its library in ../lib/rcuda; "
                  "give it --lib ${CMAKE_INSTALL_PREFIX}/${RCUDA_INSTALL_CLIENT_LIBDIR}")
endif()
set(RCUDA_UNIT_DIR lib/systemd/system)  # systemd reads /usr/lib and /usr/local/lib's

install(TARGETS rcuda-run RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT client)
get_property(_rcuda_math_libraries GLOBAL PROPERTY RCUDA_MATH_LIBRARIES)
foreach(_library rcuda_cudart rcuda_cuda_driver ${_rcuda_math_libraries})
  if(TARGET ${_library})
    install(TARGETS ${_library} LIBRARY DESTINATION ${RCUDA_INSTALL_CLIENT_LIBDIR} NAMELINK_SKIP COMPONENT client)
  endif()
endforeach()
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/rcuda-client COMPONENT client)

install(TARGETS rcuda-server RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
if(TARGET rcuda-gpu-monitor)
  install(TARGETS rcuda-gpu-monitor RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
endif()
if(TARGET ssgmd)
  install(TARGETS ssgmd ssgm RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT scheduler)
endif()

set(_faas_programs rcuda-orchestrator rcuda-fn rcuda-fn-exec rcuda-faas rcuda-faas-events rcuda-faas-watcher)
set(RCUDA_INSTALL_FAAS OFF)
foreach(p IN LISTS _faas_programs)
  if(TARGET ${p})
    install(TARGETS ${p} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT faas)
    set(RCUDA_INSTALL_FAAS ON)
  endif()
endforeach()
if(RCUDA_INSTALL_FAAS)
  install(FILES docs/faas.md DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/rcuda-faas COMPONENT faas)
endif()

# A unit of deploy/systemd, with its /usr/local paths (the default prefix)
# turned into the prefix it is installed under: done at install time, because
# CPack installs under its own prefix (/usr) whatever the build's is.
function(rcuda_install_unit unit component)
  set(source ${PROJECT_SOURCE_DIR}/deploy/systemd/${unit})
  set(docdir ${CMAKE_INSTALL_DATAROOTDIR}/doc/rcuda-${component})
  install(CODE "
    file(READ \"${source}\" text)
    string(REPLACE \"/usr/local/bin/\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/\" text \"\${text}\")
    string(REPLACE \"/usr/local/share/doc/rcuda-${component}/\" \"\${CMAKE_INSTALL_PREFIX}/${docdir}/\" text \"\${text}\")
    set(target \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${RCUDA_UNIT_DIR}/${unit}\")
    message(STATUS \"Installing: \${target}\")
    file(WRITE \"\${target}\" \"\${text}\")
    list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${target}\")
  " COMPONENT ${component})
endfunction()

# The units name their documentation (docs/scheduler.md) and read their
# configuration from /etc/rcuda; the examples go with the documentation, for
# the administrator to copy to /etc/rcuda and edit.
rcuda_install_unit(rcuda-server.service server)
install(FILES docs/scheduler.md DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/rcuda-server COMPONENT server)
install(FILES deploy/config/rcuda-server.conf
  DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/rcuda-server/examples COMPONENT server)
if(TARGET rcuda-gpu-monitor)
  rcuda_install_unit(rcuda-gpu-monitor.service server)
  install(FILES deploy/config/rcuda-gpu-monitor.conf deploy/config/inventory.example
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/rcuda-server/examples COMPONENT server)
endif()
if(TARGET ssgmd)
  rcuda_install_unit(ssgmd.service scheduler)
  install(FILES docs/scheduler.md DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/rcuda-scheduler COMPONENT scheduler)
  install(FILES deploy/config/ssgmd.conf
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/rcuda-scheduler/examples COMPONENT scheduler)
endif()
