#!/bin/sh
# Regenerates tasks.so, modules.so and devs.so (DWARF 4, no relocations left in .debug_info).
set -e
cd "$(dirname "$0")"
gcc -g -gdwarf-4 -O0 -fno-eliminate-unused-debug-types -shared -nostdlib -fPIC tasks.c -o tasks.so
gcc -g -gdwarf-4 -O0 -fno-eliminate-unused-debug-types -shared -nostdlib -fPIC modules.c -o modules.so
gcc -g -gdwarf-4 -O0 -fno-eliminate-unused-debug-types -shared -nostdlib -fPIC devs.c -o devs.so
