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
  # ccache caches what is compiled with a precompiled header (NODUS_PCH below) only with this
  # sloppiness; ccache 4.7 (Debian 12) takes it from the environment, not from its arguments.
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros
                                  "${NODUS_CCACHE}")
endif()

option(NODUS_WERROR "Treat warnings in Nodus's own code as errors (CI sets it)" OFF)

# A sanitizer build: every target compiled and linked with -fsanitize=<list>, e.g.
# "address,undefined" (scripts/check-sanitizers.sh, run by CI) or "thread" (scripts/check-tsan.sh).
# Set before any library is added, so the whole build is instrumented. Any report is fatal.
set(NODUS_SANITIZE "" CACHE STRING "Sanitizers for the whole build: address,undefined or thread")
if(NODUS_SANITIZE)
  add_compile_options(-fsanitize=${NODUS_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${NODUS_SANITIZE})
endif()

# Applied to our own targets only (not to third-party headers, which are system includes).
# -Wno-mismatched-new-delete: g++ 12 reports Asio's awaitable frames (allocated by Asio's own
# operator new and freed by its matching operator delete) as mismatched once they are inlined.
function(nodus_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local
                                           -Wnon-virtual-dtor -Wno-missing-field-initializers
                                           -Wno-mismatched-new-delete)
  if(NODUS_WERROR)
    # -Warray-bounds stays a warning: g++ 12 reports std::string concatenation as out of bounds
    # once it is inlined (GCC bug 105651), which the precompiled header makes happen more often.
    target_compile_options(${target} PRIVATE -Werror -Wno-error=array-bounds)
  endif()
  # Executables and tests get C++20 from the libraries they link; these have none of their own.
  target_compile_features(${target} PRIVATE cxx_std_20)
endfunction()

# Precompiled headers: nearly every translation unit parses the same 100 000+ lines of msgpack,
# Boost.Outcome, spdlog/fmt (and Asio where coroutines are used) before its own code. Two headers
# are precompiled, once per build: nodus_core's (the base) and nodus_node's (the base and Asio);
# every other target reuses one of them (REUSE_FROM), since a precompiled header costs as much to
# make as a dozen files save. Our own headers are not in them, so every file still includes what
# it uses (the out-of-tree install test builds without them). g++ refuses a precompiled header
# made with other macros or flags (-Winvalid-pch, an error under NODUS_WERROR).
option(NODUS_PCH "Precompile the third-party headers every library, test suite and example uses" ON)
set(NODUS_PCH_BASE <utility> <algorithm> <chrono> <map> <memory> <mutex> <optional> <string> <string_view>
                   <vector> <boost/outcome/std_result.hpp> <msgpack.hpp> <fmt/format.h> <spdlog/spdlog.h>)
# <utility> stays first: Asio 1.18's awaitable.hpp uses std::exchange without including it.
set(NODUS_PCH_ASIO <boost/asio/any_io_executor.hpp> <boost/asio/awaitable.hpp> <boost/asio/co_spawn.hpp>
                   <boost/asio/detached.hpp> <boost/asio/post.hpp> <boost/asio/redirect_error.hpp>
                   <boost/asio/steady_timer.hpp> <boost/asio/use_awaitable.hpp>)

# nodus_precompile(target [ASIO]): the base precompiled header, or with ASIO the one with Asio
# (for targets that link nodus::node).
function(nodus_precompile target)
  cmake_parse_arguments(ARG "ASIO" "" "" ${ARGN})
  if(NOT NODUS_PCH)
    return()
  endif()
  if(target STREQUAL "nodus_core")
    target_precompile_headers(nodus_core PRIVATE ${NODUS_PCH_BASE})
  elseif(target STREQUAL "nodus_node")
    target_precompile_headers(nodus_node PRIVATE ${NODUS_PCH_BASE} ${NODUS_PCH_ASIO})
  elseif(ARG_ASIO)
    target_precompile_headers(${target} REUSE_FROM nodus_node)
  else()
    target_precompile_headers(${target} REUSE_FROM nodus_core)
  endif()
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
