// Package disasm decodes kernel machine code for crash's dis command:
// one instruction at a time, in GNU (objdump, gdb) syntax, with branch
// targets as absolute addresses a caller can name. It wraps
// golang.org/x/arch's decoders: arm/armasm for ARM32 (ARM state; armasm
// has no Thumb-2 decoder), arm64/arm64asm and x86/x86asm.
package disasm

import (
	"debug/elf"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/arch/arm/armasm"
	"golang.org/x/arch/arm64/arm64asm"
	"golang.org/x/arch/x86/x86asm"
)

// ErrArch means no decoder exists for the dump's machine.
var ErrArch = errors.New("no disassembler for this machine")

// Inst is one decoded instruction.
type Inst struct {
	Len int
	// Mnemonic and Operands are GNU syntax; a branch target is an
	// absolute hex address in Operands.
	Mnemonic, Operands string
	// Target is a branch or literal's absolute address, 0 for none.
	Target uint64
}

// Decoder decodes one instruction at pc from code.
type Decoder interface {
	Decode(code []byte, pc uint64) (Inst, error)
	// MaxLen is the longest instruction (bytes to read for one).
	MaxLen() int
}

// For returns the decoder of an ELF machine.
func For(m elf.Machine) (Decoder, error) {
	switch m {
	case elf.EM_ARM:
		return arm{}, nil
	case elf.EM_AARCH64:
		return arm64{}, nil
	case elf.EM_X86_64:
		return x86{}, nil
	}
	return nil, fmt.Errorf("%w: %v", ErrArch, m)
}

// split cuts "op args" at the first space.
func split(text string) (string, string) {
	op, args, _ := strings.Cut(text, " ")
	return op, args
}

type arm struct{}

func (arm) MaxLen() int { return 4 }

// relDot is how armasm's GNU syntax prints a PC-relative operand:
// ".+0x1c" from the instruction's address.
var relDot = regexp.MustCompile(`\.([+-]0x[0-9a-f]+)`)

func (arm) Decode(code []byte, pc uint64) (Inst, error) {
	if len(code) < 4 {
		return Inst{}, fmt.Errorf("%#x: %d bytes, an ARM instruction is 4", pc, len(code))
	}
	word := uint32(code[0]) | uint32(code[1])<<8 | uint32(code[2])<<16 | uint32(code[3])<<24
	in, err := armasm.Decode(code[:4], armasm.ModeARM)
	if err != nil {
		if c, ok := coprocessor(word); ok {
			return c, nil
		}
		return Inst{Len: 4, Mnemonic: ".word", Operands: fmt.Sprintf("0x%08x", word)}, nil
	}
	op, args := split(armasm.GNUSyntax(in))
	args = stdRegs.Replace(args)
	out := Inst{Len: 4, Mnemonic: op}
	// Branches: armasm prints ".+off" from this instruction; gdb the
	// target itself.
	for _, a := range in.Args {
		if rel, ok := a.(armasm.PCRel); ok {
			out.Target = uint64(uint32(int64(pc) + 8 + int64(rel)))
		}
	}
	if out.Target != 0 {
		args = relDot.ReplaceAllStringFunc(args, func(string) string { return fmt.Sprintf("0x%x", out.Target) })
	}
	out.Operands = args
	return out, nil
}

// stdRegs are gdb's ARM register names (its "std" set, as crash
// prints them) for the APCS names armasm uses.
var stdRegs = stdNames{regexp.MustCompile(`\b(fp|ip|sl|sb)\b`)}

type stdNames struct{ re *regexp.Regexp }

func (n stdNames) Replace(s string) string {
	return n.re.ReplaceAllStringFunc(s, func(r string) string {
		return map[string]string{"fp": "r11", "ip": "r12", "sl": "r10", "sb": "r9"}[r]
	})
}

// armConds are the condition suffixes, by the top four bits.
var armConds = [16]string{"eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "", ""}

// coprocessor decodes MRC and MCR (ARM ARM A8.8.108/A8.8.98), which
// armasm leaves out and the kernel uses for CP15 (current task, cache
// and TLB operations), as gdb prints them: "mrc 15, 0, r4, cr13, cr0, {3}".
func coprocessor(w uint32) (Inst, bool) {
	if w&0x0f000010 != 0x0e000010 || w>>28 == 0xf {
		return Inst{}, false
	}
	op := "mcr"
	if w&(1<<20) != 0 {
		op = "mrc"
	}
	rt := fmt.Sprintf("r%d", w>>12&15)
	switch w >> 12 & 15 {
	case 13:
		rt = "sp"
	case 14:
		rt = "lr"
	case 15:
		rt = "APSR_nzcv"
	}
	return Inst{Len: 4, Mnemonic: op + armConds[w>>28],
		Operands: fmt.Sprintf("%d, %d, %s, cr%d, cr%d, {%d}", w>>8&15, w>>21&7, rt, w>>16&15, w&15, w>>5&7)}, true
}

type arm64 struct{}

func (arm64) MaxLen() int { return 4 }

func (arm64) Decode(code []byte, pc uint64) (Inst, error) {
	if len(code) < 4 {
		return Inst{}, fmt.Errorf("%#x: %d bytes, an arm64 instruction is 4", pc, len(code))
	}
	in, err := arm64asm.Decode(code[:4])
	if err != nil {
		return Inst{Len: 4, Mnemonic: ".inst", Operands: fmt.Sprintf("0x%02x%02x%02x%02x", code[3], code[2], code[1], code[0])}, nil
	}
	op, args := split(arm64asm.GNUSyntax(in))
	out := Inst{Len: 4, Mnemonic: op}
	for _, a := range in.Args {
		if rel, ok := a.(arm64asm.PCRel); ok {
			out.Target = uint64(int64(pc) + int64(rel))
		}
	}
	if out.Target != 0 {
		args = relDot.ReplaceAllStringFunc(args, func(string) string { return fmt.Sprintf("0x%x", out.Target) })
	}
	out.Operands = args
	return out, nil
}

type x86 struct{}

func (x86) MaxLen() int { return 15 }

func (x86) Decode(code []byte, pc uint64) (Inst, error) {
	in, err := x86asm.Decode(code, 64)
	if err != nil {
		return Inst{Len: 1, Mnemonic: "(bad)"}, nil
	}
	out := Inst{Len: in.Len}
	for _, a := range in.Args {
		if rel, ok := a.(x86asm.Rel); ok {
			out.Target = pc + uint64(in.Len) + uint64(int64(rel))
		}
	}
	// With pc given, GNUSyntax prints branch targets as absolute
	// addresses already.
	out.Mnemonic, out.Operands = split(x86asm.GNUSyntax(in, pc, nil))
	return out, nil
}
