# `cmake --install`: headers, the libraries, the `nodus` program, a CMake package
# (find_package(nodus) gives nodus::core, nodus::node, ...) and a pkg-config file (nodus.pc).
include(CMakePackageConfigHelpers)

get_property(nodus_libraries GLOBAL PROPERTY NODUS_LIBRARIES)
get_property(nodus_include_dirs GLOBAL PROPERTY NODUS_INCLUDE_DIRS)

foreach(dir ${nodus_include_dirs})
  install(DIRECTORY ${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endforeach()
install(TARGETS ${nodus_libraries} EXPORT nodusTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS nodus RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(nodus_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/nodus)
install(EXPORT nodusTargets NAMESPACE nodus:: DESTINATION ${nodus_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/nodusConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/nodusConfig.cmake
                              INSTALL_DESTINATION ${nodus_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nodusConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nodusConfig.cmake ${PROJECT_BINARY_DIR}/nodusConfigVersion.cmake
        DESTINATION ${nodus_cmake_dir})

# pkg-config: one package with every library, in link order (dependents first).
set(nodus_pc_libs "")
foreach(lib nodus_authority nodus_kafka_portal nodus_kafka_crypto nodus_kafka nodus_kafka_records nodus_stream_kafka
            nodus_stream nodus_relay nodus_secure_channel nodus_portal nodus_services
            nodus_transports nodus_node nodus_policy nodus_vault nodus_core)
  string(APPEND nodus_pc_libs " -l${lib}")
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/nodus.pc.in ${PROJECT_BINARY_DIR}/nodus.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/nodus.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
