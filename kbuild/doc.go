// Package kbuild builds a board's kernel out of tree with the kernel's own
// Kbuild (Documentation/kbuild/kbuild.rst): defconfig, the board's
// fragments merged and verified (package kernelcfg), then image, device
// tree and vmlinux. The object tree lives in the cache so every checkout
// shares it; a build whose inputs are unchanged runs no make at all. A
// source that changes in place (the user's tree, a git ref) keeps its
// object tree, so an edit rebuilds incrementally; its content is in the
// build's stamp, and only a changed Kconfig file configures again.
//
// API: Build{Board, Tree, Toolchain, CacheDir, OutDir, Log, Bar}; Configure
// makes the verified .config, Run configures and builds; each skips when
// the stamp of its inputs matches. While make compiles, Bar (a terminal)
// shows the objects compiled out of those expected, or Log gets a line
// every 30 s.
package kbuild
