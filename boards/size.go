package boards

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Size is a byte count written as QEMU and the kernel write them: "512M",
// "1G", "64K". A unit is required: QEMU's -m reads a plain number as MiB
// while a byte count reads it as bytes, so "512" would mean one thing to
// kdumpkit and another to QEMU.
type Size uint64

var sizeUnits = map[byte]uint64{'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30, 'T': 1 << 40}

// ErrSizeUnit means a size was written without its K, M, G or T unit.
var ErrSizeUnit = errors.New("size needs a unit")

// ParseSize reads "512M"-style sizes; suffixes K, M, G, T are powers of 1024.
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("size %q: empty, want a number with a K, M, G or T suffix (like 512M)", s)
	}
	mult, ok := sizeUnits[strings.ToUpper(t[len(t)-1:])[0]]
	if !ok {
		if _, err := strconv.ParseUint(t, 10, 64); err == nil {
			return 0, fmt.Errorf("size %q: %w: write %sM for MiB (or K, G, T)", s, ErrSizeUnit, t)
		}
		return 0, fmt.Errorf("size %q: want a positive number with a K, M, G or T suffix (like 512M)", s)
	}
	n, err := strconv.ParseUint(t[:len(t)-1], 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("size %q: want a positive number with a K, M, G or T suffix (like 512M)", s)
	}
	if n > ^uint64(0)/mult {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return Size(n * mult), nil
}

// UnmarshalText lets TOML strings decode into a Size.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// String prints the size with the largest exact unit, as QEMU's -m accepts it.
func (s Size) String() string {
	for _, u := range []byte{'T', 'G', 'M', 'K'} {
		if m := sizeUnits[u]; s != 0 && uint64(s)%m == 0 {
			return strconv.FormatUint(uint64(s)/m, 10) + string(u)
		}
	}
	return strconv.FormatUint(uint64(s), 10)
}

// MiB is the size in whole mebibytes.
func (s Size) MiB() uint64 { return uint64(s) >> 20 }
