package expansion_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/expansion"
)

func TestDollarKey(t *testing.T) {
	deep := strings.Repeat("[", 10001) + `{"$maxKey": 1}` + strings.Repeat("]", 10001)
	for _, tc := range []struct {
		in, ptr string
		ok      bool
	}{
		{`{"a": 1}`, "", false},
		{`{"$maxKey": 1}`, "/$maxKey", true},
		{`{"a": {"b": [1, {"$oid": "x"}]}}`, "/a/b/1/$oid", true},
		{`{"z": {"$a": 1}, "a/b": {"$b": 1}}`, "/a~1b/$b", true},
		{`{"a": "$notakey"}`, "", false},
		{`not json`, "", false},
		{``, "", false},
		{deep, strings.Repeat("/0", 10001) + "/$maxKey", true},
	} {
		ptr, ok := expansion.DollarKey([]byte(tc.in))
		if ptr != tc.ptr || ok != tc.ok {
			in := tc.in
			if len(in) > 40 {
				in = in[:40] + "..."
			}
			t.Errorf("DollarKey(%s) = %q, %v; want %q, %v", in, ptr, ok, tc.ptr, tc.ok)
		}
	}
}

func ExampleDollarKey() {
	ptr, ok := expansion.DollarKey([]byte(`{"plan": {"limit": {"$maxKey": 1}}}`))
	fmt.Println(ptr, ok)
	// Output: /plan/limit/$maxKey true
}
