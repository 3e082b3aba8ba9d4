# Debian packages, one per install component (cmake/Install.cmake):
#
#   cd build && cpack             # or: cpack --config build/CPackConfig.cmake -B DIR
#
#   rcuda-client     rcuda-run, /usr/lib/rcuda/libcudart.so.13 (no GPU needed)
#   rcuda-server     rcuda-server, rcuda-gpu-monitor, their systemd units
#   rcuda-scheduler  ssgmd, ssgm, ssgmd's unit
#   rcuda-faas       the serverless programs, when faas/ is built
#
# The packages install under /usr (CPack's default for DEB). Their Depends
# come from dpkg-shlibdeps (the shared libraries the programs link: libc,
# libstdc++, and for faas curl, hiredis, yaml-cpp...). The NVIDIA driver,
# which rcuda-server and rcuda-gpu-monitor open with dlopen, is not a
# dependency: its Debian package names differ between sources.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rcuda)
set(CPACK_PACKAGE_VENDOR rcuda)
set(CPACK_PACKAGE_CONTACT "rcuda maintainers <rcuda@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "remote GPU virtualization: CUDA programs on other machines' GPUs")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_STRIP_FILES ON)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
find_program(RCUDA_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(RCUDA_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  # Without dpkg-dev: what every program links. (rcuda-faas then lacks its
  # libraries' packages: curl, hiredis, yaml-cpp, OpenSSL.)
  message(STATUS "no dpkg-shlibdeps (dpkg-dev): the packages' Depends are libc6, libstdc++6, libgcc-s1")
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6, libstdc++6, libgcc-s1")
endif()
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_COMPONENTS_ALL client server)
if(TARGET ssgmd)
  list(APPEND CPACK_COMPONENTS_ALL scheduler)
endif()
if(RCUDA_INSTALL_FAAS)
  list(APPEND CPACK_COMPONENTS_ALL faas)
endif()

set(CPACK_DEBIAN_CLIENT_PACKAGE_NAME rcuda-client)
set(CPACK_COMPONENT_CLIENT_DESCRIPTION
    "rcuda client: rcuda-run and rcuda's libcudart.so.13\n Runs unmodified CUDA programs (built with the shared CUDA runtime) on\n the GPUs of remote rcuda-server nodes. Needs no GPU. The library is in\n /usr/lib/rcuda, out of the dynamic linker's path: rcuda-run puts it first.")
# UCX (InfiniBand, RoCE) is opened at run time when installed.
set(CPACK_DEBIAN_CLIENT_PACKAGE_SUGGESTS libucx0)
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME rcuda-server)
set(CPACK_DEBIAN_SERVER_PACKAGE_SUGGESTS libucx0)
set(CPACK_COMPONENT_SERVER_DESCRIPTION
    "rcuda server for GPU nodes: rcuda-server and rcuda-gpu-monitor\n Serves remote CUDA sessions on this node's GPUs (the NVIDIA driver's\n libcuda.so.1 is opened at run time), and reports the node to ssgmd.\n systemd units; example configurations in /usr/share/doc/rcuda-server/examples.")
set(CPACK_DEBIAN_SCHEDULER_PACKAGE_NAME rcuda-scheduler)
set(CPACK_COMPONENT_SCHEDULER_DESCRIPTION
    "rcuda GPU scheduler: ssgmd and ssgm\n Leases shares of GPU memory on the cluster's rcuda servers to jobs.\n systemd unit; example configuration in /usr/share/doc/rcuda-scheduler/examples.")
set(CPACK_DEBIAN_FAAS_PACKAGE_NAME rcuda-faas)
set(CPACK_COMPONENT_FAAS_DESCRIPTION
    "rcuda serverless programs: orchestrator, function runtime, events\n rcuda-orchestrator, rcuda-fn, rcuda-fn-exec, rcuda-faas,\n rcuda-faas-events and rcuda-faas-watcher (docs/faas.md).")

include(CPack)
