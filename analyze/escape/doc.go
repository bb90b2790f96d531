// Package escape makes strings read from a dump safe to print: any process
// can set its comm and any driver can log bytes, so text that reaches a
// terminal or a JSON reader has its control characters escaped the way
// dmesg(1) escapes them (util-linux safe_fwrite: "\x1b" as literal text).
package escape
