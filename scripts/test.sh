#!/bin/sh
# Install dependencies, build, and run the whole test suite: the normal build
# with warnings as errors, then the same tests under ASan + UBSan.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
J=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIRNET_WERROR=ON >/dev/null
cmake --build build -j "$J"
(cd build && ctest --output-on-failure -j "$J")
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DIRNET_WERROR=ON -DIRNET_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$J"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -j "$J")
# A short libFuzzer run of every decoder (the long one: ./scripts/fuzz.sh 600).
./scripts/fuzz.sh "${FUZZ_SECONDS:-5}"
