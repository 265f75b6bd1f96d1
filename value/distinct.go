package value

// DistinctValues returns the values at path p in v as the server's
// distinct command sees them: arrays on the way are traversed, an array at
// the end contributes its elements. Package gate and jsfunc's in-memory
// collections answer Distinct with it.
func DistinctValues(v Value, p Path) []Value {
	var out []Value
	var walk func(v Value, rest Path)
	walk = func(v Value, rest Path) {
		if len(rest) == 0 {
			switch {
			case v.IsMissing():
			case v.IsArray():
				v.Each(func(_ int, e Value) bool {
					out = append(out, e)
					return false
				})
			default:
				out = append(out, v)
			}
			return
		}
		switch {
		case v.IsDocument():
			walk(v.Field(rest[0]), rest[1:])
		case v.IsArray():
			v.Each(func(_ int, e Value) bool {
				if e.IsDocument() {
					walk(e.Field(rest[0]), rest[1:])
				}
				return false
			})
		}
	}
	walk(v, p)
	return out
}
