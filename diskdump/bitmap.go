package diskdump

import (
	"encoding/binary"
	"math/bits"
)

// Bitmap is one of the dump's two pfn bitmaps: bit i (byte i/8, bit i%8,
// least significant first) stands for pfn PFNOffset+i.
type Bitmap struct {
	bits []byte
	// rank[k] counts the set bits before byte k*rankBytes, for Rank.
	rank []uint64
}

const rankBytes = 512 // one rank entry per 4096 pfns

// NewBitmap returns a bitmap of n pfns, all clear.
func NewBitmap(n uint64) *Bitmap { return &Bitmap{bits: make([]byte, (n+7)/8)} }

// BitmapFrom wraps b (not copied).
func BitmapFrom(b []byte) *Bitmap { return &Bitmap{bits: b} }

// Len is the number of pfns the bitmap can hold.
func (m *Bitmap) Len() uint64 { return uint64(len(m.bits)) * 8 }

// Bytes is the bitmap's encoding.
func (m *Bitmap) Bytes() []byte { return m.bits }

// Set marks pfn i (relative to the bitmap's start).
func (m *Bitmap) Set(i uint64) {
	m.bits[i/8] |= 1 << (i % 8)
	m.rank = nil
}

// Clear unmarks pfn i.
func (m *Bitmap) Clear(i uint64) {
	m.bits[i/8] &^= 1 << (i % 8)
	m.rank = nil
}

// Test reports whether pfn i is marked; beyond the end is unmarked.
func (m *Bitmap) Test(i uint64) bool {
	return i/8 < uint64(len(m.bits)) && m.bits[i/8]&(1<<(i%8)) != 0
}

// Count is the number of marked pfns.
func (m *Bitmap) Count() uint64 { return m.countBytes(m.bits) }

func (m *Bitmap) countBytes(b []byte) uint64 {
	var n uint64
	for len(b) >= 8 {
		n += uint64(bits.OnesCount64(binary.LittleEndian.Uint64(b)))
		b = b[8:]
	}
	for _, c := range b {
		n += uint64(bits.OnesCount8(c))
	}
	return n
}

// Rank counts the marked pfns before i: the index of pfn i's page
// descriptor when i is marked in the 2nd bitmap.
func (m *Bitmap) Rank(i uint64) uint64 {
	if m.rank == nil {
		m.rank = make([]uint64, len(m.bits)/rankBytes+1)
		var n uint64
		for k := range m.rank {
			m.rank[k] = n
			if lo := k * rankBytes; lo < len(m.bits) {
				n += m.countBytes(m.bits[lo:min(lo+rankBytes, len(m.bits))])
			}
		}
	}
	byteI := min(i/8, uint64(len(m.bits)))
	k := byteI / rankBytes
	n := m.rank[k] + m.countBytes(m.bits[k*rankBytes:byteI])
	if byteI < uint64(len(m.bits)) {
		n += uint64(bits.OnesCount8(m.bits[byteI] & (1<<(i%8) - 1)))
	}
	return n
}

// Next returns the first marked pfn at or after i, and false when none.
func (m *Bitmap) Next(i uint64) (uint64, bool) {
	for byteI := i / 8; byteI < uint64(len(m.bits)); byteI++ {
		c := m.bits[byteI]
		if byteI == i/8 {
			c &^= 1<<(i%8) - 1
		}
		if c != 0 {
			return byteI*8 + uint64(bits.TrailingZeros8(c)), true
		}
	}
	return 0, false
}
