package mql

import (
	"fmt"
	"strings"
	"time"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// This file holds the date operators, in UTC only: a timezone other than
// UTC is refused at compile time (the engine has no time zone database
// of the server's).

var dateOps = map[string]opFunc{
	"$dateToString": opDateToString, "$dateFromString": opDateFromString,
}

func init() {
	for _, name := range []string{"$year", "$month", "$dayOfMonth", "$dayOfWeek", "$dayOfYear", "$hour",
		"$minute", "$second", "$millisecond", "$week", "$isoWeek", "$isoWeekYear", "$isoDayOfWeek"} {
		dateOps[name] = datePart(name)
	}
}

const defaultDateFormat = "%Y-%m-%dT%H:%M:%S.%LZ"

// checkTimezone refuses a timezone argument other than a literal UTC.
func checkTimezone(m map[string]bson.RawValue, ptr source.Pointer) error {
	tz, ok := m["timezone"]
	if !ok {
		return nil
	}
	if s, isStr := tz.StringValueOK(); isStr {
		switch s {
		case "UTC", "Etc/UTC", "GMT", "Z", "+00:00", "+0000", "+00", "-00:00":
			return nil
		}
	}
	return pipeErr(ptr.Key("timezone"), CodePipelineOperator, "a timezone other than UTC is not supported in memory")
}

// dateArg reads a date operand: a date, a timestamp or an ObjectId.
func dateArg(ptr source.Pointer, v value.Value) (time.Time, error) {
	switch v.Type {
	case bson.TypeDateTime:
		ms, _ := v.DateTimeOK()
		return time.UnixMilli(ms).UTC(), nil
	case bson.TypeTimestamp:
		sec, _ := v.RawValue().Timestamp()
		return time.Unix(int64(sec), 0).UTC(), nil
	case bson.TypeObjectID:
		id, _ := v.ObjectIDOK()
		return id.Timestamp().UTC(), nil
	}
	return time.Time{}, evalErr(ptr, "can't convert from BSON type %s to Date", aggTypeName(v))
}

func datePart(op string) opFunc {
	return func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		var e expr
		if arg.Type == bson.TypeEmbeddedDocument && !isOperatorDoc(arg.Document()) {
			m, err := named(op, arg, ptr, []string{"date"}, []string{"timezone"})
			if err != nil {
				return nil, err
			}
			if err := checkTimezone(m, ptr); err != nil {
				return nil, err
			}
			if e, err = c.compile(m["date"], ptr.Key("date")); err != nil {
				return nil, err
			}
		} else {
			es, err := c.nargs(op, arg, ptr, 1, 1)
			if err != nil {
				return nil, err
			}
			e = es[0]
		}
		return efn(func(s *scope) (value.Value, error) {
			v, err := e.eval(s)
			if err != nil || nullish(v) {
				return value.Null(), err
			}
			t, err := dateArg(ptr, v)
			if err != nil {
				return value.Missing(), err
			}
			return value.Int32(int32(dateField(op, t))), nil
		}), nil
	}
}

// dateField is one field of a UTC time as the date operators give it.
func dateField(op string, t time.Time) int {
	switch op {
	case "$year":
		return t.Year()
	case "$month":
		return int(t.Month())
	case "$dayOfMonth":
		return t.Day()
	case "$dayOfWeek":
		return int(t.Weekday()) + 1
	case "$dayOfYear":
		return t.YearDay()
	case "$hour":
		return t.Hour()
	case "$minute":
		return t.Minute()
	case "$second":
		return t.Second()
	case "$millisecond":
		return t.Nanosecond() / 1e6
	case "$week":
		// Weeks begin on Sunday; the days before the year's first Sunday
		// are week 0 (strftime's %U).
		return (t.YearDay() + 6 - int(t.Weekday())) / 7
	case "$isoWeek":
		_, w := t.ISOWeek()
		return w
	case "$isoWeekYear":
		y, _ := t.ISOWeek()
		return y
	}
	// $isoDayOfWeek: Monday 1 .. Sunday 7
	return (int(t.Weekday())+6)%7 + 1
}

// formatDate formats ms with a $dateToString format, in UTC.
func formatDate(ms int64, format string) string {
	t := time.UnixMilli(ms).UTC()
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 >= len(format) {
			b.WriteByte(format[i])
			continue
		}
		i++
		switch format[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'L':
			fmt.Fprintf(&b, "%03d", t.Nanosecond()/1e6)
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'w':
			fmt.Fprintf(&b, "%d", int(t.Weekday())+1)
		case 'u':
			fmt.Fprintf(&b, "%d", dateField("$isoDayOfWeek", t))
		case 'U':
			fmt.Fprintf(&b, "%02d", dateField("$week", t))
		case 'V':
			fmt.Fprintf(&b, "%02d", dateField("$isoWeek", t))
		case 'G':
			fmt.Fprintf(&b, "%04d", dateField("$isoWeekYear", t))
		case 'Z':
			b.WriteString("+0")
		case 'z':
			b.WriteString("+0000")
		case '%':
			b.WriteByte('%')
		}
	}
	return b.String()
}

// checkFormat checks a $dateToString format's specifiers.
func checkFormat(f string) error {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		if i+1 >= len(f) {
			return fmt.Errorf("unmatched '%%' at end of format string")
		}
		i++
		if !strings.ContainsRune("YmdHMSLjwuUVGZz%", rune(f[i])) {
			return fmt.Errorf("invalid format character '%%%c' in format string", f[i])
		}
	}
	return nil
}

func opDateToString(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	m, err := named("$dateToString", arg, ptr, []string{"date"}, []string{"format", "timezone", "onNull"})
	if err != nil {
		return nil, err
	}
	if err := checkTimezone(m, ptr); err != nil {
		return nil, err
	}
	date, err := c.compile(m["date"], ptr.Key("date"))
	if err != nil {
		return nil, err
	}
	format, err := c.optional(m, "format", ptr)
	if err != nil {
		return nil, err
	}
	onNull, err := c.optional(m, "onNull", ptr)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		f := defaultDateFormat
		if format != nil {
			fv, err := format.eval(s)
			if err != nil {
				return fv, err
			}
			if nullish(fv) {
				return value.Null(), nil
			}
			if fv.Type != bson.TypeString {
				return value.Missing(), evalErr(ptr, "$dateToString requires that 'format' be a string, found: %s", aggTypeName(fv))
			}
			f = string(strData(fv))
			if err := checkFormat(f); err != nil {
				return value.Missing(), evalErr(ptr, "$dateToString: %v", err)
			}
		}
		v, err := date.eval(s)
		if err != nil {
			return v, err
		}
		if nullish(v) {
			if onNull != nil {
				return onNull.eval(s)
			}
			return value.Null(), nil
		}
		t, err := dateArg(ptr, v)
		if err != nil {
			return value.Missing(), err
		}
		return value.String(formatDate(t.UnixMilli(), f)), nil
	}), nil
}

// isoLayouts are the ISO-8601 forms $dateFromString reads here.
var isoLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// parseISODate reads an ISO-8601 date string (UTC unless it has an offset).
func parseISODate(s string) (int64, bool) {
	for _, l := range isoLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

func opDateFromString(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	m, err := named("$dateFromString", arg, ptr, []string{"dateString"}, []string{"format", "timezone", "onError", "onNull"})
	if err != nil {
		return nil, err
	}
	if err := checkTimezone(m, ptr); err != nil {
		return nil, err
	}
	if _, ok := m["format"]; ok {
		return nil, pipeErr(ptr.Key("format"), CodePipelineOperator, "$dateFromString with a format is not supported in memory: only ISO-8601 date strings")
	}
	ds, err := c.compile(m["dateString"], ptr.Key("dateString"))
	if err != nil {
		return nil, err
	}
	onError, err := c.optional(m, "onError", ptr)
	if err != nil {
		return nil, err
	}
	onNull, err := c.optional(m, "onNull", ptr)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		v, err := ds.eval(s)
		if err != nil {
			return v, err
		}
		if nullish(v) {
			if onNull != nil {
				return onNull.eval(s)
			}
			return value.Null(), nil
		}
		str, ok := v.StringOK()
		var ms int64
		if ok {
			ms, ok = parseISODate(str)
		}
		if !ok {
			if onError != nil {
				return onError.eval(s)
			}
			if v.Type != bson.TypeString {
				return value.Missing(), evalErr(ptr, "$dateFromString requires that 'dateString' be a string, found: %s", aggTypeName(v))
			}
			return value.Missing(), evalErr(ptr, "error parsing date string '%s'", str)
		}
		return dateOf(ms), nil
	}), nil
}

// isOperatorDoc reports whether doc's first field starts with "$".
func isOperatorDoc(doc bson.Raw) bool {
	el, err := doc.IndexErr(0)
	return err == nil && strings.HasPrefix(el.Key(), "$")
}
