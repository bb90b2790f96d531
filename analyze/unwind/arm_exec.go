package unwind

import "fmt"

// vm is the virtual register state of EHABI §9.3: the register file, the
// virtual stack pointer, and whether r15 was loaded by a pop.
type vm struct {
	regs  ARMRegs
	vsp   uint32
	pcSet bool
	mem   wordStack
}

// maxPops bounds the stack words one entry may pop, so a corrupt uleb128
// cannot make us read gigabytes of "stack".
const maxPops = 1 << 12

// execute runs the unwind opcodes of one frame (EHABI §10.3) until
// "finish" or the end of the bytes.
func (v *vm) execute(ops []byte) error {
	for i := 0; i < len(ops); {
		if ops[i] == 0xb0 { // finish
			return nil
		}
		n, err := v.step(ops[i:])
		if err != nil {
			return fmt.Errorf("opcode %#02x at byte %d: %w", ops[i], i, err)
		}
		i += n
	}
	return nil
}

// step executes the instruction at ops[0] and returns its length.
func (v *vm) step(ops []byte) (int, error) {
	op := ops[0]
	operand := func() (byte, error) {
		if len(ops) < 2 {
			return 0, fmt.Errorf("operand missing")
		}
		return ops[1], nil
	}
	switch {
	case op&0xc0 == 0x00: // 00xxxxxx: vsp += (x << 2) + 4
		v.vsp += uint32(op&0x3f)<<2 + 4
		return 1, nil
	case op&0xc0 == 0x40: // 01xxxxxx: vsp -= (x << 2) + 4
		v.vsp -= uint32(op&0x3f)<<2 + 4
		return 1, nil
	case op&0xf0 == 0x80: // 1000iiii iiiiiiii: pop {r4-r15} under mask, or refuse
		lo, err := operand()
		if err != nil {
			return 0, err
		}
		mask := uint16(op&0x0f)<<8 | uint16(lo)
		if mask == 0 {
			return 0, ErrRefuse
		}
		return 2, v.popMask(uint32(mask) << 4)
	case op&0xf0 == 0x90: // 1001nnnn: vsp = r[n]; 13 and 15 are reserved
		if n := op & 0x0f; n != 13 && n != 15 {
			v.vsp = v.regs[n]
			return 1, nil
		}
		return 0, ErrBadOpcode
	case op&0xf0 == 0xa0: // 1010Lnnn: pop r4-r[4+n] (+r14 if L)
		mask := (uint32(1)<<(op&7+1) - 1) << 4
		if op&0x08 != 0 {
			mask |= 1 << LR
		}
		return 1, v.popMask(mask)
	case op == 0xb1: // 10110001 0000iiii: pop r0-r3 under mask
		m, err := operand()
		if err != nil {
			return 0, err
		}
		if m == 0 || m&0xf0 != 0 {
			return 0, fmt.Errorf("mask %#02x: %w", m, ErrBadOpcode)
		}
		return 2, v.popMask(uint32(m))
	case op == 0xb2: // vsp += 0x204 + (uleb128 << 2)
		return v.bigAdjust(ops)
	}
	return v.stepCoprocessor(ops, operand)
}

// bigAdjust runs 10110010 uleb128: vsp = vsp + 0x204 + (uleb128 << 2).
func (v *vm) bigAdjust(ops []byte) (int, error) {
	var x uint64
	for i := 1; i < len(ops); i++ {
		if i > 5 {
			return 0, fmt.Errorf("uleb128 too long: %w", ErrBadOpcode)
		}
		x |= uint64(ops[i]&0x7f) << (7 * (i - 1))
		if ops[i]&0x80 == 0 {
			if x > maxPops {
				return 0, fmt.Errorf("stack adjustment %#x words is not plausible: %w", x, ErrBadOpcode)
			}
			v.vsp += 0x204 + uint32(x)<<2
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("uleb128 cut short")
}

// stepCoprocessor skips VFP and iWMMX register pops: the unwinder needs
// only their stack space, not their values.
func (v *vm) stepCoprocessor(ops []byte, operand func() (byte, error)) (int, error) {
	op := ops[0]
	switch {
	case op == 0xb3, op == 0xc8, op == 0xc9, op == 0xc6: // sssscccc register ranges
		b, err := operand()
		if err != nil {
			return 0, err
		}
		v.vsp += (uint32(b&0x0f) + 1) * 8
		if op == 0xb3 { // FSTMFDX adds a format word
			v.vsp += 4
		}
		return 2, nil
	case op&0xf8 == 0xb8: // pop VFP d8-d[8+n] saved by FSTMFDX
		v.vsp += (uint32(op&7)+1)*8 + 4
	case op&0xf8 == 0xd0: // pop VFP d8-d[8+n] saved by VPUSH
		v.vsp += (uint32(op&7) + 1) * 8
	case op&0xf8 == 0xc0 && op&7 < 6: // pop iWMMX wR10-wR[10+n]
		v.vsp += (uint32(op&7) + 1) * 8
	case op == 0xc7: // pop iWMMX wCGR under mask
		m, err := operand()
		if err != nil {
			return 0, err
		}
		if m == 0 || m&0xf0 != 0 {
			return 0, fmt.Errorf("mask %#02x: %w", m, ErrBadOpcode)
		}
		v.vsp += 4 * uint32(popcount(uint32(m)))
		return 2, nil
	default: // 10011101, 10011111, 101101nn, 11001yyy, 11xxxyyy: spare
		return 0, ErrBadOpcode
	}
	return 1, nil
}

// popMask loads the registers whose bits are set in mask (bit n = r[n]),
// lowest first, from vsp upwards. A popped sp takes effect only after the
// whole pop, as EHABI §10.3 requires.
func (v *vm) popMask(mask uint32) error {
	addr := v.vsp
	var newSP uint32
	spPopped := false
	for r := 0; r < 16; r++ {
		if mask&(1<<r) == 0 {
			continue
		}
		w, err := v.mem.ReadU32(addr)
		if err != nil {
			return fmt.Errorf("popping r%d from %#x: %w", r, addr, err)
		}
		addr += 4
		switch r {
		case SP:
			newSP, spPopped = w, true
		case PC:
			v.regs[PC] = w
			v.pcSet = true
		default:
			v.regs[r] = w
		}
	}
	v.vsp = addr
	if spPopped {
		v.vsp = newSP
	}
	return nil
}

func popcount(x uint32) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}
