package value

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ErrRegexUnsupported is the error of CompileRegex for a pattern or
// options whose meaning may differ between the server's PCRE and Go's
// RE2, which rulegate therefore refuses (fail closed).
var ErrRegexUnsupported = errors.New("value: regular expression not supported")

// Pattern is the operand of {"$regex": Source, "$options": Options},
// with the Go regular expression that matches as the server's PCRE does.
type Pattern struct {
	Source, Options string
	re              *regexp.Regexp
}

// maxRepeat is the largest count of {m,n} RE2 accepts.
const maxRepeat = 1000

// CompileRegex reads the operand of $regex as the server does (the
// MongoDB manual, $regex) when its meaning is the same in PCRE and RE2;
// anything else is ErrRegexUnsupported. The options are among i
// (case-insensitive), m (^ and $ at line breaks), s (. matches a line
// break) and x (extended: whitespace and # comments outside classes
// ignored). The syntax accepted is a conservative subset: literal
// characters (ASCII only under i), escaped punctuation, \d \D \w \W \s \S
// \b \B \A \z \n \t \r \f \v, ".", character classes of literals, ASCII
// ranges and those escapes (no POSIX classes, no "[" or a leading "]"
// unescaped), the anchors ^ and $, the quantifiers * + ? {m} {m,}
// {m,n} (lazy allowed, m and n at most 1000, after a character, class or
// group), groups ( ) and (?: ), and |. $ without m must end the pattern or
// an alternative of it (PCRE also matches it before a final line break,
// which the translation does), ^ with m must be followed by what consumes
// a character (PCRE does not match it after a final line break); no
// backreferences, lookaround, possessive or atomic groups, inline
// options, named groups, \Q..\E, \p, \x or NUL.
func CompileRegex(pattern, options string) (*Pattern, error) {
	t := regexTranslator{src: pattern}
	for _, o := range options {
		switch o {
		case 'i':
			t.i = true
		case 'm':
			t.m = true
		case 's':
			t.s = true
		case 'x':
			t.x = true
		default:
			return nil, fmt.Errorf("%w: option %q (only i, m, s and x)", ErrRegexUnsupported, o)
		}
	}
	if err := t.run(); err != nil {
		return nil, err
	}
	flags := ""
	if t.i {
		flags += "i"
	}
	if t.m {
		flags += "m"
	}
	if t.s {
		flags += "s"
	}
	goPat := t.out.String()
	if flags != "" {
		goPat = "(?" + flags + ")" + goPat
	}
	re, err := regexp.Compile(goPat)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRegexUnsupported, err)
	}
	return &Pattern{Source: pattern, Options: options, re: re}, nil
}

// MatchRegex reports whether v matches {p: {$regex: r}}: some candidate of
// Each(v, p) is a string (or symbol) the pattern matches, or a stored
// regular expression with r's pattern and options (the server compares
// those). Other values never match.
func MatchRegex(v Value, p Path, r *Pattern) bool {
	return Each(v, p, func(c Value) bool {
		switch c.Type {
		case bson.TypeString:
			s, _ := c.StringOK()
			return r.re.MatchString(s)
		case bson.TypeSymbol:
			s, _ := c.RawValue().SymbolOK()
			return r.re.MatchString(s)
		case bson.TypeRegex:
			pat, opts, _ := c.RawValue().RegexOK()
			return pat == r.Source && opts == r.Options
		}
		return false
	})
}

// regexTranslator checks a PCRE pattern against the accepted subset and
// writes its RE2 equivalent.
type regexTranslator struct {
	src        string
	pos        int
	i, m, s, x bool
	out        strings.Builder
	depth      int
}

func (t *regexTranslator) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d of %q", ErrRegexUnsupported, fmt.Sprintf(format, args...), t.pos, t.src)
}

// pcreSpace is the whitespace of PCRE's extended mode.
const pcreSpace = " \t\n\v\f\r"

// skip passes over whitespace and comments in extended mode.
func (t *regexTranslator) skip() {
	for t.x && t.pos < len(t.src) {
		c := t.src[t.pos]
		switch {
		case strings.IndexByte(pcreSpace, c) >= 0:
			t.pos++
		case c == '#':
			for t.pos < len(t.src) && t.src[t.pos] != '\n' {
				t.pos++
			}
		default:
			return
		}
	}
}

func (t *regexTranslator) run() error {
	if strings.IndexByte(t.src, 0) >= 0 {
		return t.fail("a NUL character")
	}
	quantifiable := false // the last item is a character, class or group
	for t.skip(); t.pos < len(t.src); t.skip() {
		c := t.src[t.pos]
		switch c {
		case '(':
			if strings.HasPrefix(t.src[t.pos:], "(?:") {
				t.pos += 3
				t.out.WriteString("(?:")
			} else if strings.HasPrefix(t.src[t.pos:], "(?") || strings.HasPrefix(t.src[t.pos:], "(*") {
				return t.fail("a group other than ( ) and (?: )")
			} else {
				t.pos++
				t.out.WriteByte('(')
			}
			t.depth++
			quantifiable = false
			continue
		case ')':
			if t.depth == 0 {
				return t.fail("an unbalanced )")
			}
			t.depth--
			t.pos++
			t.out.WriteByte(')')
			quantifiable = true
		case '|':
			t.pos++
			t.out.WriteByte('|')
			quantifiable = false
			continue
		case '^':
			t.pos++
			if t.m && !t.consumesNext() {
				return t.fail("^ under option m not followed by a character")
			}
			t.out.WriteByte('^')
			quantifiable = false
			continue
		case '$':
			t.pos++
			if t.m {
				t.out.WriteByte('$')
			} else {
				if !t.endsAlternative() {
					return t.fail("$ before more of the pattern")
				}
				// PCRE's $ also matches before a final line break.
				t.out.WriteString(`(?:\n?\z)`)
			}
			quantifiable = false
			continue
		case '*', '+', '?', '{':
			return t.fail("a quantifier with nothing to repeat")
		case '[':
			if err := t.class(); err != nil {
				return err
			}
			quantifiable = true
		case '.':
			t.pos++
			t.out.WriteByte('.')
			quantifiable = true
		case '\\':
			ok, err := t.escape(false)
			if err != nil {
				return err
			}
			quantifiable = ok
		case ']', '}':
			return t.fail("an unescaped %c", c)
		default:
			if err := t.literal(); err != nil {
				return err
			}
			quantifiable = true
		}
		if quantifiable {
			if err := t.quantifier(); err != nil {
				return err
			}
		}
	}
	if t.depth != 0 {
		return t.fail("an unclosed (")
	}
	return nil
}

// literal copies one literal character, refusing a non-ASCII one under
// i (the case folding tables of PCRE and Go may differ).
func (t *regexTranslator) literal() error {
	_, size := utf8.DecodeRuneInString(t.src[t.pos:])
	if size > 1 && t.i {
		return t.fail("a non-ASCII character under option i")
	}
	t.out.WriteString(regexp.QuoteMeta(t.src[t.pos : t.pos+size]))
	t.pos += size
	return nil
}

// quantifier copies the quantifier after a repeatable item, if any.
func (t *regexTranslator) quantifier() error {
	t.skip()
	if t.pos >= len(t.src) {
		return nil
	}
	switch c := t.src[t.pos]; c {
	case '*', '+', '?':
		t.pos++
		t.out.WriteByte(c)
	case '{':
		end := strings.IndexByte(t.src[t.pos:], '}')
		if end < 0 {
			return t.fail("a { that is not a repetition")
		}
		body := t.src[t.pos+1 : t.pos+end]
		lo, hi, comma := body, "", false
		if k := strings.IndexByte(body, ','); k >= 0 {
			lo, hi, comma = body[:k], body[k+1:], true
		}
		m, err1 := strconv.Atoi(lo)
		n, err2 := m, error(nil)
		if hi != "" {
			n, err2 = strconv.Atoi(hi)
		}
		if !digits(lo) || (hi != "" && !digits(hi)) || err1 != nil || err2 != nil || m > maxRepeat || n > maxRepeat || n < m {
			return t.fail("a repetition other than {m}, {m,} or {m,n} with m <= n <= %d", maxRepeat)
		}
		t.pos += end + 1
		t.out.WriteByte('{')
		t.out.WriteString(lo)
		if comma {
			t.out.WriteByte(',')
			t.out.WriteString(hi)
		}
		t.out.WriteByte('}')
	default:
		return nil
	}
	t.skip()
	if t.pos < len(t.src) {
		switch t.src[t.pos] {
		case '?':
			t.pos++
			t.out.WriteByte('?')
		case '+':
			return t.fail("a possessive quantifier")
		}
	}
	t.skip()
	if t.pos < len(t.src) && strings.IndexByte("*+?{", t.src[t.pos]) >= 0 {
		return t.fail("a quantifier of a quantifier")
	}
	return nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// consumesNext reports whether the item after a ^ under m consumes a
// character whatever happens: a literal, ".", a class or a character
// escape, without a quantifier that allows zero repetitions.
func (t *regexTranslator) consumesNext() bool {
	save := t.pos
	defer func() { t.pos = save }()
	t.skip()
	if t.pos >= len(t.src) {
		return false
	}
	switch c := t.src[t.pos]; {
	case c == '\\':
		if t.pos+1 >= len(t.src) || strings.IndexByte("bBAz", t.src[t.pos+1]) >= 0 {
			return false
		}
		t.pos += 2
	case c == '[':
		end := strings.IndexByte(t.src[t.pos+1:], ']')
		if end < 0 {
			return false
		}
		// (The class itself is checked when it is read; a class with an
		// escaped ] ends later, which only makes this answer false.)
		if strings.Contains(t.src[t.pos:t.pos+1+end], `\`) {
			return false
		}
		t.pos += end + 2
	case strings.IndexByte("()|^$*+?{", c) >= 0:
		return false
	default:
		_, size := utf8.DecodeRuneInString(t.src[t.pos:])
		t.pos += size
	}
	t.skip()
	return t.pos >= len(t.src) || !strings.ContainsRune("*?{", rune(t.src[t.pos]))
}

// endsAlternative reports whether only closing parentheses follow, up to
// the end of the pattern or a | outside every group: there PCRE's $ and
// the translated one match the same strings.
func (t *regexTranslator) endsAlternative() bool {
	depth := t.depth
	for i := t.pos; ; i++ {
		for t.x && i < len(t.src) && strings.IndexByte(pcreSpace, t.src[i]) >= 0 {
			i++
		}
		switch {
		case i >= len(t.src):
			return true
		case t.src[i] == ')' && depth > 0:
			depth--
		case t.src[i] == '|' && depth == 0:
			return true
		default:
			return false
		}
	}
}

// classEscapes are the escapes of a character class, as RE2 text.
var classEscapes = map[byte]string{
	'd': `0-9`, 'w': `0-9A-Za-z_`, 's': `\t\n\v\f\r `,
	'n': `\n`, 't': `\t`, 'r': `\r`, 'f': `\f`, 'v': `\v`,
}

// escape copies the escape at t.pos (inside a class when inClass) and
// reports whether it is a character item (quantifiable) rather than an
// assertion.
func (t *regexTranslator) escape(inClass bool) (bool, error) {
	if t.pos+1 >= len(t.src) {
		return false, t.fail("a trailing backslash")
	}
	c := t.src[t.pos+1]
	start := t.pos
	t.pos += 2
	switch {
	case c < 0x80 && !isAlnum(c):
		if c == ' ' || strings.IndexByte(pcreSpace, c) >= 0 {
			if c != ' ' {
				t.pos = start
				return false, t.fail("an escaped control character")
			}
			t.out.WriteString(`\x20`)
			return true, nil
		}
		t.out.WriteByte('\\')
		t.out.WriteByte(c)
		return true, nil
	case inClass && classEscapes[c] != "":
		t.out.WriteString(classEscapes[c])
		return true, nil
	case !inClass && strings.IndexByte("dDwW", c) >= 0:
		t.out.WriteByte('\\')
		t.out.WriteByte(c)
		return true, nil
	case !inClass && c == 's':
		t.out.WriteString(`[\t\n\v\f\r ]`)
		return true, nil
	case !inClass && c == 'S':
		t.out.WriteString(`[^\t\n\v\f\r ]`)
		return true, nil
	case !inClass && strings.IndexByte("nrtfv", c) >= 0:
		t.out.WriteByte('\\')
		t.out.WriteByte(c)
		return true, nil
	case !inClass && strings.IndexByte("bBAz", c) >= 0:
		t.out.WriteByte('\\')
		t.out.WriteByte(c)
		return false, nil
	}
	t.pos = start
	return false, t.fail(`the escape \%c`, c)
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// class copies a character class.
func (t *regexTranslator) class() error {
	t.pos++ // [
	t.out.WriteByte('[')
	if t.pos < len(t.src) && t.src[t.pos] == '^' {
		t.pos++
		t.out.WriteByte('^')
	}
	if t.pos < len(t.src) && t.src[t.pos] == ']' {
		return t.fail("a ] first in a class")
	}
	items := 0
	for {
		if t.pos >= len(t.src) {
			return t.fail("an unclosed [")
		}
		c := t.src[t.pos]
		switch {
		case c == ']':
			if items == 0 {
				return t.fail("an empty class")
			}
			t.pos++
			t.out.WriteByte(']')
			return nil
		case c == '[':
			return t.fail("a [ in a class")
		case c == '\\':
			if t.pos+1 < len(t.src) && strings.IndexByte("DWS", t.src[t.pos+1]) >= 0 {
				return t.fail(`a negated class escape \%c in a class`, t.src[t.pos+1])
			}
			if _, err := t.escape(true); err != nil {
				return err
			}
		case c == '-':
			// Literal only at either end of the class.
			if items != 0 && (t.pos+1 >= len(t.src) || t.src[t.pos+1] != ']') {
				return t.fail("a - inside a class (escape it or put it first or last)")
			}
			t.pos++
			t.out.WriteString(`\-`)
		case c >= 0x80 && t.i:
			return t.fail("a non-ASCII character under option i")
		case c >= 0x80 || c < 0x20:
			if err := t.literal(); err != nil {
				return err
			}
		default:
			t.pos++
			if t.pos+1 < len(t.src) && t.src[t.pos] == '-' && t.src[t.pos+1] != ']' {
				hi := t.src[t.pos+1]
				if hi == '\\' || hi == '[' || hi >= 0x80 || hi < c {
					return t.fail("a range other than between two ASCII characters in order")
				}
				t.out.WriteString(regexp.QuoteMeta(string(c)) + "-" + regexp.QuoteMeta(string(hi)))
				t.pos += 2
			} else {
				t.out.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		items++
	}
}

// MatchString reports whether the pattern matches s (as $regexMatch
// reads a string).
func (p *Pattern) MatchString(s string) bool { return p.re.MatchString(s) }
