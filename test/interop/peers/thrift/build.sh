#!/bin/sh
# Generates the Thrift peers' code with Debian's thrift-compiler and builds the C++ peers.
# Needs: apt-get install -y thrift-compiler python3-thrift libthrift-dev libboost-dev g++
# Output (gitignored): gen-nodejs/, gen-py/, gen-cpp/, build/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
for tool in thrift g++; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build.sh: $tool not found (apt-get install -y thrift-compiler g++ libthrift-dev libboost-dev)" >&2; exit 1; }
done
[ -f /usr/include/thrift/transport/THeaderTransport.h ] || { echo "build.sh: libthrift-dev missing" >&2; exit 1; }

rm -rf gen-nodejs gen-py gen-cpp build
mkdir -p gen-nodejs gen-py gen-cpp
thrift --gen js:node -out gen-nodejs echo.thrift
thrift --gen py -out gen-py echo.thrift
thrift --gen cpp -out gen-cpp echo.thrift
# The repository's package.json says "type": "module"; the generated node code is CommonJS.
echo '{ "type": "commonjs" }' > gen-nodejs/package.json

mkdir -p build
CXX="g++ -std=c++17 -O1 -Igen-cpp"
$CXX -o build/cpp_server cpp_server.cpp gen-cpp/Echo.cpp gen-cpp/echo_types.cpp -lthriftz -lthrift -lz -lpthread
$CXX -o build/cpp_client cpp_client.cpp gen-cpp/Echo.cpp gen-cpp/echo_types.cpp -lthriftz -lthrift -lz -lpthread
echo "build.sh: thrift peers ready in $here"
