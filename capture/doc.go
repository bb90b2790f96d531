// Package capture saves a crashed kernel's memory — /proc/vmcore in the
// capture kernel — and its log to the board's dump targets, in order,
// falling back when one fails: a directory (a QEMU 9p host share or any
// mounted filesystem), a raw block device with a small header (disk.go),
// or an HTTP upload to `kdumpkit receive` (http.go). dmesg.txt goes first
// (small and the most valuable), then the vmcore, then manifest.json with
// every file's size and SHA-256. No target ever holds a file that looks
// complete but is not: files are written under a temporary name and
// renamed, the disk header is written last, the receiver renames only
// after checking length and hash. markers.go defines the console lines
// the host watches.
package capture
