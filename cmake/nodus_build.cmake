# Compiler and build-speed settings for every Nodus target.
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

find_program(NODUS_CCACHE ccache)
if(NODUS_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${NODUS_CCACHE}")
endif()

# Applied to our own targets only (not to third-party headers, which are system includes).
# -Wno-mismatched-new-delete: g++ 12 reports Asio's awaitable frames (allocated by Asio's own
# operator new and freed by its matching operator delete) as mismatched once they are inlined.
function(nodus_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local
                                           -Wnon-virtual-dtor -Wno-missing-field-initializers
                                           -Wno-mismatched-new-delete)
endfunction()
