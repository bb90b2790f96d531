// Package downloads fetches files into a cache shared across projects and
// verifies them with SHA-256, pinned or read from a published checksum file
// (sha256sum(1) format, as kernel.org's sha256sums.asc and Bootlin's .sha256
// use). HTTP downloads resume after a cut; file:// URLs and plain paths are
// verified in place (regular files only, hashed with the context checked
// between chunks). Checksum files are bounded in size, local or not, and a
// source that stalls (less than IdleBytes in IdleTimeout) is given up so
// the next is tried. Nothing unverified ever carries the final name.
//
// API: (*Fetcher).Fetch(ctx, Spec) returns the verified file's path;
// FetchFirst tries an ordered list; ParseChecksums reads checksum files.
package downloads
