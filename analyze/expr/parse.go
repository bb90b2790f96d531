package expr

import (
	"fmt"
	"strconv"
	"strings"
)

// Node is a parsed expression.
type Node interface{ node() }

type (
	numNode   struct{ v uint64 }
	identNode struct {
		name string
		cpu  int // per-CPU copy asked for with name:cpu; -1 for none
	}
	unaryNode struct {
		op string
		x  Node
	}
	binaryNode struct {
		op   string
		x, y Node
	}
	memberNode struct {
		x     Node
		name  string
		arrow bool
	}
	indexNode struct{ x, i Node }
	castNode  struct {
		typ typeName
		x   Node
	}
	sizeofNode struct {
		typ *typeName // sizeof(type)
		x   Node      // sizeof expr
	}
)

// typeName is a parsed C type: a base name and how many '*' follow it.
type typeName struct {
	base  string
	stars int
}

func (numNode) node()    {}
func (identNode) node()  {}
func (unaryNode) node()  {}
func (binaryNode) node() {}
func (memberNode) node() {}
func (indexNode) node()  {}
func (castNode) node()   {}
func (sizeofNode) node() {}

// maxDepth bounds nesting, so "((((...))))" from a fuzzer or a typo
// cannot exhaust the stack.
const maxDepth = 200

type parser struct {
	toks  []token
	pos   int
	depth int
	src   string
}

// Parse parses a C expression of the subset the package evaluates.
func Parse(s string) (Node, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, src: s}
	n, err := p.binary(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errorf(t, "unexpected %q", t.text)
	}
	return n, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return fmt.Errorf("%w at column %d of %q: %s", ErrSyntax, t.at+1, p.src, fmt.Sprintf(format, args...))
}

func (p *parser) expect(text string) error {
	if t := p.next(); t.text != text || t.kind == tEOF {
		return p.errorf(t, "expected %q", text)
	}
	return nil
}

// Binary operators by precedence, lowest first (C's table).
var precedence = [][]string{
	{"||"}, {"&&"}, {"|"}, {"^"}, {"&"}, {"==", "!="}, {"<", ">", "<=", ">="}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "%"},
}

func (p *parser) binary(level int) (Node, error) {
	if level == len(precedence) {
		return p.unary()
	}
	x, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tOp || !contains(precedence[level], t.text) {
			return x, nil
		}
		p.next()
		y, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		x = binaryNode{t.text, x, y}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) unary() (Node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errorf(p.peek(), "nested more than %d deep", maxDepth)
	}
	t := p.peek()
	switch {
	case t.kind == tOp && (t.text == "-" || t.text == "~" || t.text == "!" || t.text == "*" || t.text == "&" || t.text == "+"):
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return unaryNode{t.text, x}, nil
	case t.kind == tIdent && t.text == "sizeof":
		p.next()
		if p.peek().text == "(" {
			if tn, ok := p.tryTypeName(); ok {
				return sizeofNode{typ: &tn}, nil
			}
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return sizeofNode{x: x}, nil
	case t.text == "(" && t.kind == tOp:
		if tn, ok := p.tryTypeName(); ok {
			x, err := p.unary()
			if err != nil {
				return nil, err
			}
			return castNode{tn, x}, nil
		}
	}
	return p.postfix()
}

// tryTypeName parses "(type)" when the parenthesis holds a type name:
// one that starts with a C type keyword, or a name followed by '*', or a
// lone name followed by something that can start an operand (so
// "(pid_t)5" is a cast and "(x) + 1" is not). On failure the position is
// unchanged.
func (p *parser) tryTypeName() (typeName, bool) {
	start := p.pos
	p.next() // (
	var words []string
	for p.peek().kind == tIdent {
		words = append(words, p.next().text)
	}
	stars := 0
	for p.peek().text == "*" && p.peek().kind == tOp {
		p.next()
		stars++
	}
	closing := p.peek().text == ")" && p.peek().kind == tOp
	if len(words) == 0 || !closing {
		p.pos = start
		return typeName{}, false
	}
	p.next()
	isType := typeKeyword[words[0]] || len(words) > 1 || stars > 0
	if !isType {
		nt := p.peek()
		isType = nt.kind == tNum || nt.kind == tIdent || (nt.kind == tOp && nt.text == "(")
	}
	if !isType {
		p.pos = start
		return typeName{}, false
	}
	return typeName{strings.Join(words, " "), stars}, true
}

// typeKeyword are words that begin a type name and never an expression.
var typeKeyword = map[string]bool{
	"struct": true, "union": true, "enum": true, "unsigned": true, "signed": true, "const": true, "volatile": true,
	"char": true, "short": true, "int": true, "long": true, "void": true, "_Bool": true,
}

func (p *parser) postfix() (Node, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tOp && (t.text == "." || t.text == "->"):
			p.next()
			m := p.next()
			if m.kind != tIdent {
				return nil, p.errorf(m, "expected a member name after %q", t.text)
			}
			x = memberNode{x, m.text, t.text == "->"}
		case t.kind == tOp && t.text == "[":
			p.next()
			i, err := p.binary(0)
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			x = indexNode{x, i}
		default:
			return x, nil
		}
	}
}

func (p *parser) primary() (Node, error) {
	t := p.next()
	switch t.kind {
	case tNum:
		v, err := parseNumber(t.text)
		if err != nil {
			return nil, p.errorf(t, "%v", err)
		}
		return numNode{v}, nil
	case tIdent:
		id := identNode{name: t.text, cpu: -1}
		if c := p.peek(); c.kind == tOp && c.text == ":" {
			p.next()
			n := p.next()
			cpu, err := strconv.Atoi(n.text)
			if n.kind != tNum || err != nil || cpu < 0 || cpu > 1<<16 {
				return nil, p.errorf(n, "expected a CPU number after %s:", t.text)
			}
			id.cpu = cpu
		}
		return id, nil
	case tOp:
		if t.text == "(" {
			x, err := p.binary(0)
			if err != nil {
				return nil, err
			}
			return x, p.expect(")")
		}
	case tEOF:
		return nil, p.errorf(t, "expression ends early")
	}
	return nil, p.errorf(t, "unexpected %q", t.text)
}

// parseNumber reads C integer literals: decimal, 0x hex, 0 octal, with
// u/l suffixes ignored.
func parseNumber(s string) (uint64, error) {
	s = strings.TrimRight(s, "uUlL")
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return v, nil
}

type tokKind int

const (
	tEOF tokKind = iota
	tNum
	tIdent
	tOp
)

type token struct {
	kind tokKind
	text string
	at   int
}

// operators, longest first so "->" wins over "-".
var operators = []string{"->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
	"+", "-", "*", "/", "%", "&", "|", "^", "~", "!", "<", ">", "(", ")", "[", "]", ".", ":"}

func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isAlnum(s[j])) {
				j++
			}
			toks = append(toks, token{tNum, s[i:j], i})
			i = j
		case isAlpha(c):
			j := i
			for j < len(s) && isAlnum(s[j]) {
				j++
			}
			toks = append(toks, token{tIdent, s[i:j], i})
			i = j
		default:
			op := ""
			for _, o := range operators {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("%w at column %d of %q: unexpected %q", ErrSyntax, i+1, s, string(c))
			}
			toks = append(toks, token{tOp, op, i})
			i += len(op)
		}
	}
	return append(toks, token{tEOF, "", len(s)}), nil
}

func isAlpha(c byte) bool { return c == '_' || c == '$' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isAlnum(c byte) bool { return isAlpha(c) || (c >= '0' && c <= '9') }
