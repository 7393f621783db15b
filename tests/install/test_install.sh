#!/usr/bin/env bash
# Installs ustack into a temporary prefix (cmake --install, what `make install`
# runs), then builds and runs a small program against it twice: with
# pkg-config, and with CMake's find_package(ustack).
set -euo pipefail
build_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v pkg-config >/dev/null || { echo "SKIP: pkg-config not installed" >&2; exit 77; }
cmake --install "$build_dir" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib*/ | head -n1)

for f in include/ustack/ustack.h "${libdir#"$tmp/prefix/"}libustack.a" \
         "${libdir#"$tmp/prefix/"}libustack.so" "${libdir#"$tmp/prefix/"}pkgconfig/ustack.pc"; do
    [ -e "$tmp/prefix/$f" ] || { echo "FAIL: $f not installed" >&2; exit 1; }
done

# pkg-config: static link, so the test does not depend on the loader path.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c11 $(pkg-config --cflags ustack) "$here/consumer.c" -o "$tmp/consumer-pc" \
   "$libdir/libustack.a" $(pkg-config --libs --static ustack | sed 's/-lustack//')
"$tmp/consumer-pc"
# And the shared library through the .pc file's -lustack.
cc -std=c11 $(pkg-config --cflags ustack) "$here/consumer.c" -o "$tmp/consumer-so" \
   $(pkg-config --libs ustack) -Wl,-rpath,"$libdir"
"$tmp/consumer-so"

# CMake package.
cmake -S "$here" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cmake-build" >/dev/null
"$tmp/cmake-build/consumer"
echo "install: headers, static and shared libraries, pkg-config and CMake package all work"
