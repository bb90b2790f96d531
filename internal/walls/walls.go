// Package walls holds no code: its test states the import walls between
// kdumpkit's three sides, as Go's go/build/deps_test.go does for the
// standard library, so that a wall broken by a stray import fails CI
// instead of growing unnoticed:
//
//   - the build side (boards → toolchain/kernel → initramfs → QEMU →
//     pipeline) prepares and runs boards; it never imports the analyzer,
//     which it drives as a separate binary;
//   - the board side (cmds/* and what they import) runs in a crash
//     kernel with little memory: no DWARF type system, no symbol tables,
//     no command layer, no build side;
//   - the analyzer (analyze/...) reads dumps on any host: it imports
//     nothing of the build or board side.
package walls
