# libcollsim: the public C++ API (include/collsim/collsim.h) as a shared
# library that carries collsim_core inside it, so a consumer needs only the
# header and the library (SimGrid, yaml-cpp and fmt come along as the
# shared libraries they already are).
include(GNUInstallDirs)  # before the first use of CMAKE_INSTALL_*DIR
include(CMakePackageConfigHelpers)
add_library(collsim_lib SHARED sim/api/collsim.cc)
set_target_properties(collsim_lib PROPERTIES OUTPUT_NAME collsim EXPORT_NAME collsim VERSION ${PROJECT_VERSION}
                                             SOVERSION ${PROJECT_VERSION_MAJOR})
target_include_directories(collsim_lib PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                              $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_options(collsim_lib PRIVATE ${COLLSIM_WARNINGS})
target_compile_definitions(collsim_lib PRIVATE COLLSIM_VERSION="${PROJECT_VERSION}")
target_link_libraries(collsim_lib PRIVATE collsim_core)
add_library(collsim::collsim ALIAS collsim_lib)

install(TARGETS collsim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS collsim_lib EXPORT collsimTargets LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES include/collsim/collsim.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/collsim)
install(EXPORT collsimTargets NAMESPACE collsim:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/collsim)
configure_package_config_file(cmake/collsimConfig.cmake.in ${CMAKE_BINARY_DIR}/collsimConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/collsim)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/collsimConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/collsimConfig.cmake ${CMAKE_BINARY_DIR}/collsimConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/collsim)
# Relocatable: the prefix is found from the .pc file's own directory.
file(RELATIVE_PATH COLLSIM_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
configure_file(cmake/collsim.pc.in ${CMAKE_BINARY_DIR}/collsim.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/collsim.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The Python module: build/python/collsim (PYTHONPATH=build/python), from
# python/collsim/__init__.py and the pybind11 extension _collsim.
option(COLLSIM_PYTHON "Build the Python module (pybind11-dev, python3-dev)" ON)
if(COLLSIM_PYTHON)
  # Debian's python3 (the one pybind11-dev and python3-pytest serve) unless
  # one is named: another python3 first on the PATH (pyenv...) may lack them.
  if(NOT DEFINED PYTHON_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(PYTHON_EXECUTABLE /usr/bin/python3)
  endif()
  find_package(pybind11 CONFIG QUIET)
  if(pybind11_FOUND)
    pybind11_add_module(collsim_python python/collsim_module.cc)
    set_target_properties(collsim_python PROPERTIES OUTPUT_NAME _collsim
                                                    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/python/collsim)
    target_compile_options(collsim_python PRIVATE ${COLLSIM_WARNINGS})
    target_link_libraries(collsim_python PRIVATE collsim_lib)
    configure_file(python/collsim/__init__.py ${CMAKE_BINARY_DIR}/python/collsim/__init__.py COPYONLY)
    set(COLLSIM_PYTHON_BUILT ON)
  else()
    message(STATUS "pybind11 not found: no Python module (apt-get install pybind11-dev python3-dev)")
  endif()
endif()

# bash completion, and a man page generated from --help when help2man is
# installed (Debian's help2man).
install(FILES completions/collsim.bash DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions
        RENAME collsim)
find_program(COLLSIM_HELP2MAN help2man)
if(COLLSIM_HELP2MAN)
  add_custom_command(
    OUTPUT ${CMAKE_BINARY_DIR}/collsim.1
    COMMAND ${COLLSIM_HELP2MAN} --no-info --name "simulate the communication inside distributed training"
            --output ${CMAKE_BINARY_DIR}/collsim.1 $<TARGET_FILE:collsim>
    DEPENDS collsim
    VERBATIM)
  add_custom_target(collsim_man ALL DEPENDS ${CMAKE_BINARY_DIR}/collsim.1)
  install(FILES ${CMAKE_BINARY_DIR}/collsim.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "help2man not found: no man page (apt-get install help2man)")
endif()
