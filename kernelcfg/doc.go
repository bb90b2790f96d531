// Package kernelcfg reads, merges and verifies Linux kernel configurations:
// .config files and fragments in the format of the kernel's
// scripts/kconfig (CONFIG_NAME=value, "# CONFIG_NAME is not set"), and the
// Kconfig language's config/depends on/choice/if structure
// (Documentation/kbuild/kconfig-language.rst) to explain a symbol that did
// not stick.
//
// API: Parse reads a config or fragment; (*Config).Merge lays a fragment
// over a base; ScanKconfig indexes a kernel tree's Kconfig files for one arch; Verify
// compares the final config with what fragments asked for.
package kernelcfg
