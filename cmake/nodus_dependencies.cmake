# Every dependency comes from Debian packages (scripts/install-deps.sh installs them).
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS system program_options)
find_package(msgpack 4.1 CONFIG REQUIRED)   # the 4.1 keeps it from picking the C library
find_package(spdlog 1.10 REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka>=2.0)
# The codecs of compressed Kafka record batches (kafka/records). Linked by their plain names
# (z, snappy, lz4, zstd) rather than as imported targets, so the installed CMake package needs no
# extra find step for them.
pkg_check_modules(ZLIB REQUIRED zlib>=1.2)
pkg_check_modules(SNAPPY REQUIRED snappy>=1.1)
pkg_check_modules(LZ4 REQUIRED liblz4>=1.9)
pkg_check_modules(ZSTD REQUIRED libzstd>=1.4)
