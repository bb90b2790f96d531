// Package boards loads and validates kdumpkit board files: TOML documents
// (https://toml.io/en/v1.0.0) that say which QEMU machine, kernel, toolchain
// and dump targets a board uses. Shipped boards and kernel config fragments
// are embedded, so `board:vexpress` works from any directory.
//
// API: Load(path) reads a user's board file, Shipped(name) a shipped one,
// Names() lists the shipped ones; (*Board).Fragments resolves fragment names
// to their text. Anything refused is one line, "FILE:LINE: FIELD: value:
// what is wanted", wrapping ErrInvalid (and a *FieldError for values).
package boards
