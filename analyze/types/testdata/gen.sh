#!/bin/sh
# Regenerates types.so (linked so that no relocations are left in .debug_info): DWARF 4, as CONFIG_DEBUG_INFO_DWARF4 kernels have.
set -e
cd "$(dirname "$0")"
gcc -g -gdwarf-4 -O0 -fno-eliminate-unused-debug-types -shared -nostdlib -fPIC types.c -o types.so
