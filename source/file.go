package source

import (
	"sort"
	"sync"
)

// File is a named source file: its name as diagnostics print it (a
// slash-separated path relative to the app directory) and its bytes. The
// line table is built on first use; a File is safe for concurrent use.
type File struct {
	Name string
	Data []byte

	once  sync.Once
	lines []int // byte offset of the start of each line
}

// NewFile returns a File with the given name and contents.
func NewFile(name string, data []byte) *File { return &File{Name: name, Data: data} }

// Pos is a 1-based line and column. Columns count bytes, as go/token's do.
// The zero Pos means "unknown".
type Pos struct {
	Line, Col int
}

// IsValid reports whether p names a place.
func (p Pos) IsValid() bool { return p.Line > 0 }

func (f *File) lineTable() []int {
	f.once.Do(func() {
		f.lines = append(f.lines, 0)
		for i, c := range f.Data {
			if c == '\n' {
				f.lines = append(f.lines, i+1)
			}
		}
	})
	return f.lines
}

// Position returns the line and column of a byte offset. Offsets past the
// end are clamped to the end of the file.
func (f *File) Position(offset int) Pos {
	if f == nil {
		return Pos{}
	}
	if offset < 0 {
		offset = 0
	}
	if offset > len(f.Data) {
		offset = len(f.Data)
	}
	lines := f.lineTable()
	i := sort.Search(len(lines), func(i int) bool { return lines[i] > offset }) - 1
	return Pos{Line: i + 1, Col: offset - lines[i] + 1}
}

// Line returns the text of line n (1-based) without its newline, or "" when
// there is no such line.
func (f *File) Line(n int) string {
	if f == nil {
		return ""
	}
	lines := f.lineTable()
	if n < 1 || n > len(lines) {
		return ""
	}
	start := lines[n-1]
	end := len(f.Data)
	if n < len(lines) {
		end = lines[n] - 1
	}
	if end > start && f.Data[end-1] == '\r' {
		end--
	}
	return string(f.Data[start:end])
}

// Snippet returns line n followed by a caret line pointing at column col,
// for showing a diagnostic in context. Tabs in the prefix are kept so the
// caret lines up.
//
// It returns "" when p is not a place in f.
func (f *File) Snippet(p Pos) string {
	if f == nil || p.Line < 1 || p.Line > len(f.lineTable()) || p.Col < 1 {
		return ""
	}
	line := f.Line(p.Line)
	caret := make([]byte, 0, p.Col)
	for i := 0; i < p.Col-1 && i < len(line); i++ {
		if line[i] == '\t' {
			caret = append(caret, '\t')
		} else {
			caret = append(caret, ' ')
		}
	}
	return line + "\n" + string(caret) + "^"
}
