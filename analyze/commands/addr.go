package commands

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Addr is a kernel address; JSON carries it as a "0x..." string because
// 64-bit kernel addresses do not survive a trip through a float64.
type Addr uint64

// MarshalJSON writes "0x" and the hex digits.
func (a Addr) MarshalJSON() ([]byte, error) { return json.Marshal(fmt.Sprintf("%#x", uint64(a))) }

// UnmarshalJSON reads the "0x..." form back.
func (a *Addr) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		return fmt.Errorf("address %q: %w", s, err)
	}
	*a = Addr(v)
	return nil
}
