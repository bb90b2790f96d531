// Package kbuild builds a board's kernel out of tree with the kernel's own
// Kbuild (Documentation/kbuild/kbuild.rst): defconfig, the board's
// fragments merged and verified (package kernelcfg), then image, device
// tree and vmlinux. The object tree lives in the cache so every checkout
// shares it; a build whose inputs are unchanged runs no make at all.
//
// API: Build{Board, Tree, Toolchain, CacheDir, OutDir, Log}; Configure
// makes the verified .config, Run configures and builds; each skips when
// the stamp of its inputs matches.
package kbuild
