# Settings of a fuzz build (NODUS_BUILD_FUZZ), included by the top-level CMakeLists.txt before
# any library is added: clang only, since libFuzzer is part of clang.
# Everything compiled in this build gets libFuzzer's coverage hooks and ASan + UBSan; the fuzz
# targets themselves link libFuzzer's main (tests/fuzz/CMakeLists.txt).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "NODUS_BUILD_FUZZ needs clang (libFuzzer is part of it), not ${CMAKE_CXX_COMPILER_ID}: "
                      "configure with -DCMAKE_CXX_COMPILER=clang++, or run scripts/fuzz.sh")
endif()
set(NODUS_SANITIZERS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
add_compile_options(-fsanitize=fuzzer-no-link ${NODUS_SANITIZERS})
# The shared warning flags are g++'s; clang does not know -Wshadow=local.
add_compile_options(-Wno-unknown-warning-option)
add_link_options(${NODUS_SANITIZERS})
# clang 14 with libstdc++ 12: Asio 1.18 only enables co_await for g++ unless told (docs/toolchain.md).
add_compile_definitions(BOOST_ASIO_HAS_CO_AWAIT=1 BOOST_ASIO_HAS_STD_COROUTINE=1)
