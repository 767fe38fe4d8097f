# Compiler and build-speed settings for every Nodus target.
# C++20 is a usage requirement of each library (nodus_library below), not a global setting, so
# a program that links nodus::node is compiled as C++20 whatever its own settings.
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

find_program(NODUS_CCACHE ccache)
if(NODUS_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${NODUS_CCACHE}")
endif()

option(NODUS_WERROR "Treat warnings in Nodus's own code as errors (CI sets it)" OFF)

# Applied to our own targets only (not to third-party headers, which are system includes).
# -Wno-mismatched-new-delete: g++ 12 reports Asio's awaitable frames (allocated by Asio's own
# operator new and freed by its matching operator delete) as mismatched once they are inlined.
function(nodus_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local
                                           -Wnon-virtual-dtor -Wno-missing-field-initializers
                                           -Wno-mismatched-new-delete)
  if(NODUS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  # Executables and tests get C++20 from the libraries they link; these have none of their own.
  target_compile_features(${target} PRIVATE cxx_std_20)
endfunction()

# nodus_library(target folder): the settings every library of the runtime shares. Its public
# headers are in <folder>/include (installed as they are), its private ones in <folder>/src; it
# is exported as nodus::<folder> (nodus_install.cmake).
function(nodus_library target folder)
  target_include_directories(${target}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/${folder}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/${folder}/src)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${folder})
  nodus_warnings(${target})
  set_property(GLOBAL APPEND PROPERTY NODUS_LIBRARIES ${target})
  set_property(GLOBAL APPEND PROPERTY NODUS_INCLUDE_DIRS ${PROJECT_SOURCE_DIR}/${folder}/include)
endfunction()
