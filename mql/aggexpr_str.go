package mql

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// This file holds the string operators. Case mapping and $strcasecmp are
// ASCII only, as the server's.

var stringOps = map[string]opFunc{
	"$concat": opConcat, "$toLower": caseOp("$toLower"), "$toUpper": caseOp("$toUpper"),
	"$substr": substrBytes("$substr"), "$substrBytes": substrBytes("$substrBytes"), "$substrCP": opSubstrCP,
	"$strLenBytes": strLen("$strLenBytes"), "$strLenCP": strLen("$strLenCP"), "$split": opSplit,
	"$trim": trimOp("$trim"), "$ltrim": trimOp("$ltrim"), "$rtrim": trimOp("$rtrim"),
	"$indexOfBytes": indexOfStr("$indexOfBytes"), "$indexOfCP": indexOfStr("$indexOfCP"),
	"$strcasecmp": opStrcasecmp, "$regexMatch": opRegexMatch,
	"$replaceOne": replaceOp("$replaceOne"), "$replaceAll": replaceOp("$replaceAll"),
}

// coerceString is the server's coerceToString for the values this engine
// formats exactly: strings, symbols, null and Missing (""), int32 and
// int64, dates (as $dateToString's default format).
func coerceString(ptr source.Pointer, op string, v value.Value) (string, error) {
	switch v.Type {
	case bson.TypeString, bson.TypeSymbol:
		return string(strData(v)), nil
	case 0, bson.TypeNull, bson.TypeUndefined:
		return "", nil
	case bson.TypeInt32, bson.TypeInt64:
		i, _ := v.IntOK()
		return strconv.FormatInt(i, 10), nil
	case bson.TypeDateTime:
		ms, _ := v.DateTimeOK()
		return formatDate(ms, defaultDateFormat), nil
	case bson.TypeDouble, bson.TypeDecimal128, bson.TypeTimestamp:
		return "", unsupportedErr(ptr, "%s of a %s is not supported in memory: the server's text of it is not reproduced", op, aggTypeName(v))
	}
	return "", evalErr(ptr, "can't convert from BSON type %s to String", aggTypeName(v))
}

// strData is a string or symbol value's bytes.
func strData(v value.Value) []byte {
	if len(v.Data) < 5 {
		return nil
	}
	return v.Data[4 : len(v.Data)-1]
}

// strArg evaluates a string operand; null is true when it is nullish.
func strArg(s *scope, e expr, ptr source.Pointer, op, what string) (str string, null bool, err error) {
	v, err := e.eval(s)
	if err != nil {
		return "", false, err
	}
	if nullish(v) {
		return "", true, nil
	}
	if v.Type != bson.TypeString {
		return "", false, evalErr(ptr, "%s requires %s to be a string, found: %s", op, what, aggTypeName(v))
	}
	return string(strData(v)), false, nil
}

func opConcat(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.args(arg, ptr)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		var b strings.Builder
		for _, e := range es {
			v, err := e.eval(s)
			if err != nil {
				return v, err
			}
			if nullish(v) {
				return value.Null(), nil
			}
			if v.Type != bson.TypeString {
				return value.Missing(), evalErr(ptr, "$concat only supports strings, not %s", aggTypeName(v))
			}
			b.Write(strData(v))
		}
		return value.String(b.String()), nil
	}), nil
}

func caseOp(op string) opFunc {
	return func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		es, err := c.nargs(op, arg, ptr, 1, 1)
		if err != nil {
			return nil, err
		}
		return efn(func(s *scope) (value.Value, error) {
			v, err := es[0].eval(s)
			if err != nil {
				return v, err
			}
			str, err := coerceString(ptr, op, v)
			if err != nil {
				return value.Missing(), err
			}
			b := []byte(str)
			for i, ch := range b {
				if op == "$toLower" && ch >= 'A' && ch <= 'Z' {
					b[i] = ch + 32
				} else if op == "$toUpper" && ch >= 'a' && ch <= 'z' {
					b[i] = ch - 32
				}
			}
			return value.String(string(b)), nil
		}), nil
	}
}

// intArg evaluates an integral numeric operand.
func intArg(s *scope, e expr, ptr source.Pointer, op, what string) (int64, error) {
	v, err := e.eval(s)
	if err != nil {
		return 0, err
	}
	i, ok := v.IntOK()
	if !ok || !v.IsNumber() {
		return 0, evalErr(ptr, "%s: %s must be an integral number, found %s", op, what, v)
	}
	return i, nil
}

func substrBytes(op string) opFunc {
	return func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		es, err := c.nargs(op, arg, ptr, 3, 3)
		if err != nil {
			return nil, err
		}
		return efn(func(s *scope) (value.Value, error) {
			v, err := es[0].eval(s)
			if err != nil {
				return v, err
			}
			str, err := coerceString(ptr, op, v)
			if err != nil {
				return value.Missing(), err
			}
			start, err := intArg(s, es[1], ptr, op, "starting index")
			if err != nil {
				return value.Missing(), err
			}
			n, err := intArg(s, es[2], ptr, op, "length")
			if err != nil {
				return value.Missing(), err
			}
			if start < 0 || start >= int64(len(str)) {
				return value.String(""), nil
			}
			end := int64(len(str))
			if n >= 0 && start+n < end {
				end = start + n
			}
			if start > 0 && !utf8.RuneStart(str[start]) {
				return value.Missing(), evalErr(ptr, "%s: Invalid range, starting index is a UTF-8 continuation byte.", op)
			}
			if end < int64(len(str)) && !utf8.RuneStart(str[end]) {
				return value.Missing(), evalErr(ptr, "%s: Invalid range, ending index is in the middle of a UTF-8 character.", op)
			}
			return value.String(str[start:end]), nil
		}), nil
	}
}

func opSubstrCP(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.nargs("$substrCP", arg, ptr, 3, 3)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		v, err := es[0].eval(s)
		if err != nil {
			return v, err
		}
		str, err := coerceString(ptr, "$substrCP", v)
		if err != nil {
			return value.Missing(), err
		}
		start, err := intArg(s, es[1], ptr, "$substrCP", "starting index")
		if err != nil {
			return value.Missing(), err
		}
		n, err := intArg(s, es[2], ptr, "$substrCP", "length")
		if err != nil {
			return value.Missing(), err
		}
		if start < 0 {
			return value.Missing(), evalErr(ptr, "$substrCP: the starting index must be nonnegative integer.")
		}
		if n < 0 {
			return value.Missing(), evalErr(ptr, "$substrCP: length must be a nonnegative integer.")
		}
		r := []rune(str)
		if start >= int64(len(r)) {
			return value.String(""), nil
		}
		end := int64(len(r))
		if start+n < end {
			end = start + n
		}
		return value.String(string(r[start:end])), nil
	}), nil
}

func strLen(op string) opFunc {
	return func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		es, err := c.nargs(op, arg, ptr, 1, 1)
		if err != nil {
			return nil, err
		}
		return efn(func(s *scope) (value.Value, error) {
			v, err := es[0].eval(s)
			if err != nil {
				return v, err
			}
			if v.Type != bson.TypeString {
				return value.Missing(), evalErr(ptr, "%s requires a string argument, found: %s", op, aggTypeName(v))
			}
			b := strData(v)
			if op == "$strLenCP" {
				return value.Int32(int32(utf8.RuneCount(b))), nil
			}
			return value.Int32(int32(len(b))), nil
		}), nil
	}
}

func opSplit(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.nargs("$split", arg, ptr, 2, 2)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		str, null, err := strArg(s, es[0], ptr, "$split", "its first argument")
		if err != nil || null {
			return value.Null(), err
		}
		sep, null, err := strArg(s, es[1], ptr, "$split", "its second argument")
		if err != nil || null {
			return value.Null(), err
		}
		if sep == "" {
			return value.Missing(), evalErr(ptr, "$split requires a non-empty separator")
		}
		parts := strings.Split(str, sep)
		out := make([]value.Value, len(parts))
		for i, p := range parts {
			out[i] = value.String(p)
		}
		return arrOf(out), nil
	}), nil
}

// defaultTrim is what $trim removes without chars: the manual's list of
// whitespace characters and the null character.
const defaultTrim = "\x00 \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"

func trimOp(op string) opFunc {
	return func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		m, err := named(op, arg, ptr, []string{"input"}, []string{"chars"})
		if err != nil {
			return nil, err
		}
		in, err := c.compile(m["input"], ptr.Key("input"))
		if err != nil {
			return nil, err
		}
		chars, err := c.optional(m, "chars", ptr)
		if err != nil {
			return nil, err
		}
		return efn(func(s *scope) (value.Value, error) {
			str, null, err := strArg(s, in, ptr, op, "'input'")
			if err != nil || null {
				return value.Null(), err
			}
			cut := defaultTrim
			if chars != nil {
				cs, null, err := strArg(s, chars, ptr, op, "'chars'")
				if err != nil || null {
					return value.Null(), err
				}
				cut = cs
			}
			if op != "$rtrim" {
				str = strings.TrimLeft(str, cut)
			}
			if op != "$ltrim" {
				str = strings.TrimRight(str, cut)
			}
			return value.String(str), nil
		}), nil
	}
}

func indexOfStr(op string) opFunc {
	return func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		es, err := c.nargs(op, arg, ptr, 2, 4)
		if err != nil {
			return nil, err
		}
		return efn(func(s *scope) (value.Value, error) {
			str, null, err := strArg(s, es[0], ptr, op, "its first argument")
			if err != nil || null {
				return value.Null(), err
			}
			sub, null, err := strArg(s, es[1], ptr, op, "its second argument")
			if err != nil {
				return value.Missing(), err
			}
			if null {
				return value.Missing(), evalErr(ptr, "%s requires a string as the second argument, found: null", op)
			}
			var units []string // code points for $indexOfCP, bytes otherwise
			if op == "$indexOfCP" {
				for _, r := range str {
					units = append(units, string(r))
				}
			} else {
				for i := 0; i < len(str); i++ {
					units = append(units, str[i:i+1])
				}
			}
			start, end := int64(0), int64(len(units))
			if len(es) > 2 {
				if start, err = intArg(s, es[2], ptr, op, "starting index"); err != nil {
					return value.Missing(), err
				}
				if start < 0 {
					return value.Missing(), evalErr(ptr, "%s requires a nonnegative start index, found: %d", op, start)
				}
			}
			if len(es) > 3 {
				e, err := intArg(s, es[3], ptr, op, "ending index")
				if err != nil {
					return value.Missing(), err
				}
				if e < 0 {
					return value.Missing(), evalErr(ptr, "%s requires a nonnegative ending index, found: %d", op, e)
				}
				if e < end {
					end = e
				}
			}
			if start > end {
				return value.Int32(-1), nil
			}
			hay := strings.Join(units[start:end], "")
			i := strings.Index(hay, sub)
			if i < 0 {
				return value.Int32(-1), nil
			}
			if op == "$indexOfCP" {
				i = utf8.RuneCountInString(hay[:i])
			}
			return value.Int32(int32(start) + int32(i)), nil
		}), nil
	}
}

func opStrcasecmp(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.nargs("$strcasecmp", arg, ptr, 2, 2)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		var strs [2]string
		for i, e := range es {
			v, err := e.eval(s)
			if err != nil {
				return v, err
			}
			if strs[i], err = coerceString(ptr, "$strcasecmp", v); err != nil {
				return value.Missing(), err
			}
			b := []byte(strs[i])
			for k, ch := range b {
				if ch >= 'A' && ch <= 'Z' {
					b[k] = ch + 32
				}
			}
			strs[i] = string(b)
		}
		return value.Int32(int32(strings.Compare(strs[0], strs[1]))), nil
	}), nil
}

func opRegexMatch(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	m, err := named("$regexMatch", arg, ptr, []string{"input", "regex"}, []string{"options"})
	if err != nil {
		return nil, err
	}
	in, err := c.compile(m["input"], ptr.Key("input"))
	if err != nil {
		return nil, err
	}
	re, err := c.compile(m["regex"], ptr.Key("regex"))
	if err != nil {
		return nil, err
	}
	opts, err := c.optional(m, "options", ptr)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		iv, err := in.eval(s)
		if err != nil {
			return iv, err
		}
		rv, err := re.eval(s)
		if err != nil {
			return rv, err
		}
		var pattern, options string
		switch rv.Type {
		case bson.TypeString:
			pattern = string(strData(rv))
		case bson.TypeRegex:
			p, o := rv.RawValue().Regex()
			pattern, options = p, o
		case 0, bson.TypeNull, bson.TypeUndefined:
			return value.Bool(false), nil
		default:
			return value.Missing(), evalErr(ptr, "$regexMatch needs 'regex' to be of type string or regex")
		}
		if opts != nil {
			ov, err := opts.eval(s)
			if err != nil {
				return ov, err
			}
			if !nullish(ov) {
				if ov.Type != bson.TypeString {
					return value.Missing(), evalErr(ptr, "$regexMatch needs 'options' to be of type string")
				}
				if options != "" {
					return value.Missing(), evalErr(ptr, "$regexMatch found regex option(s) specified in both 'regex' and 'option' fields")
				}
				options = string(strData(ov))
			}
		}
		if nullish(iv) {
			return value.Bool(false), nil
		}
		if iv.Type != bson.TypeString {
			return value.Missing(), evalErr(ptr, "$regexMatch needs 'input' to be of type string")
		}
		p, err := value.CompileRegex(pattern, options)
		if err != nil {
			return value.Missing(), unsupportedErr(ptr, "$regexMatch: %v", err)
		}
		return value.Bool(p.MatchString(string(strData(iv)))), nil
	}), nil
}

func replaceOp(op string) opFunc {
	return func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		m, err := named(op, arg, ptr, []string{"input", "find", "replacement"}, nil)
		if err != nil {
			return nil, err
		}
		var es [3]expr
		for i, k := range []string{"input", "find", "replacement"} {
			if es[i], err = c.compile(m[k], ptr.Key(k)); err != nil {
				return nil, err
			}
		}
		return efn(func(s *scope) (value.Value, error) {
			var strs [3]string
			null := false
			for i, k := range []string{"input", "find", "replacement"} {
				str, n, err := strArg(s, es[i], ptr, op, "'"+k+"'")
				if err != nil {
					return value.Missing(), err
				}
				strs[i], null = str, null || n
			}
			if null {
				return value.Null(), nil
			}
			n := int64(1)
			if op == "$replaceAll" {
				n = int64(strings.Count(strs[0], strs[1]))
			}
			if err := s.reserve(int64(len(strs[0])) + n*int64(len(strs[2]))); err != nil {
				return value.Missing(), err
			}
			if op == "$replaceOne" {
				return value.String(strings.Replace(strs[0], strs[1], strs[2], 1)), nil
			}
			return value.String(strings.ReplaceAll(strs[0], strs[1], strs[2])), nil
		}), nil
	}
}
