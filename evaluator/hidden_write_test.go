package evaluator_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
)

// TestWriteDecisionIgnoresHiddenValues: an update or replacement is
// decided alike on two stored documents that differ only in what the
// caller cannot read (a field an applied filter's projection withholds,
// or one the role neither reads nor writes: present or absent, one value
// or another), and WriteFilter selects a stored document exactly when
// Evaluate allows the write on it.
func TestWriteDecisionIgnoresHiddenValues(t *testing.T) {
	const (
		all      = `{"name": "all", "apply_when": {}, "read": true, "write": true}`
		hideS    = `"filters": [{"name": "hide", "apply_when": {}, "query": {}, "projection": {"secret": 0}}]`
		hideSSN  = `"filters": [{"name": "hide", "apply_when": {}, "query": {}, "projection": {"profile.ssn": 0}}]`
		fieldsS  = `{"name": "r", "apply_when": {}, "fields": {"secret": {"read": false, "write": false}}, "additional_fields": {"read": true, "write": true}}`
		readOnly = `{"name": "r", "apply_when": {}, "fields": {"owner": {"read": true}}, "additional_fields": {"read": true, "write": true}}`
		dfRead   = `{"name": "r", "apply_when": {}, "document_filters": {"read": {"owner": "%%user.id"}}, "write": true}`
	)
	for _, tc := range []struct {
		name, rules string
		// docs differ only in values the caller cannot read.
		docs    []string
		updates []string
		allowed bool
	}{
		{"projected", `"roles": [` + all + `], ` + hideS,
			[]string{`{"_id": 1, "t": 1}`, `{"_id": 1, "t": 1, "secret": "guess"}`, `{"_id": 1, "t": 1, "secret": 7}`, `{"_id": 1, "t": 1, "secret": ["x"]}`},
			[]string{`{"$set": {"secret": "guess"}}`, `{"$unset": {"secret": ""}}`, `{"$inc": {"secret": 1}}`, `{"$min": {"secret": 0}}`, `{"$max": {"secret": 9}}`,
				`{"$push": {"secret": "x"}}`, `{"$addToSet": {"secret": "x"}}`, `{"$pull": {"secret": "x"}}`, `{"$pop": {"secret": 1}}`, `{"$mul": {"secret": 2}}`,
				`{"$set": {"secret.a": 1}}`, `{"$set": {"secret.$[]": 1}}`, `{"$rename": {"secret": "t2"}}`, `{"$rename": {"t": "secret"}}`, `{"$currentDate": {"secret": true}}`,
				`{"t": 2}`, `{"t": 2, "secret": "guess"}`}, false},
		{"projected-others", `"roles": [` + all + `], ` + hideS,
			[]string{`{"_id": 1, "t": 1}`, `{"_id": 1, "t": 1, "secret": "guess"}`},
			[]string{`{"$set": {"t": 2}}`, `{"$inc": {"n": 1}}`, `{"$rename": {"t": "u"}}`}, true},
		{"projected-embedded", `"roles": [` + all + `], ` + hideSSN,
			[]string{`{"_id": 1, "profile": {"name": "a"}}`, `{"_id": 1, "profile": {"name": "a", "ssn": "x"}}`},
			[]string{`{"$set": {"profile": {"name": "b"}}}`, `{"$unset": {"profile": ""}}`, `{"$set": {"profile.ssn": "x"}}`, `{"$rename": {"profile": "p"}}`, `{"profile": {"name": "b"}}`}, false},
		{"projected-embedded-sibling", `"roles": [` + all + `], ` + hideSSN,
			[]string{`{"_id": 1, "profile": {"name": "a"}}`, `{"_id": 1, "profile": {"name": "a", "ssn": "x"}}`},
			[]string{`{"$set": {"profile.name": "b"}}`}, true},
		{"unreadable-field", `"roles": [` + fieldsS + `]`,
			[]string{`{"_id": 1, "t": 1}`, `{"_id": 1, "t": 1, "secret": "s"}`},
			[]string{`{"t": 2}`, `{"t": 2, "secret": "s"}`, `{"$set": {"secret": "s"}}`, `{"$unset": {"secret": ""}}`,
				// A replacement whose first key is "" is a replacement
				// all the same (mql.UpdatePaths says so).
				`{"": 1, "t": 2}`}, false},
		// An update the server would reject on the stored value ($push
		// to a scalar, $inc of a string) is denied by the permissions
		// first: the error would name the hidden value's type.
		{"unreadable-field-type", `"roles": [` + fieldsS + `]`,
			[]string{`{"_id": 1, "t": 1}`, `{"_id": 1, "t": 1, "secret": 1}`, `{"_id": 1, "t": 1, "secret": [1]}`, `{"_id": 1, "t": 1, "secret": "s"}`},
			[]string{`{"$push": {"secret": 2}}`, `{"$inc": {"secret": 1}}`, `{"$pull": {"secret": 1}}`, `{"$set": {"secret.a": 1}}`, `{"$rename": {"secret": "u"}}`}, false},
		{"unreadable-field-others", `"roles": [` + fieldsS + `]`,
			[]string{`{"_id": 1, "t": 1}`, `{"_id": 1, "t": 1, "secret": "s"}`},
			[]string{`{"$set": {"t": 2}}`}, true},
		// The document itself is unreadable (document_filters.read false,
		// document_filters.write undefined) but writable: a replacement
		// would remove fields the caller cannot see.
		{"unreadable-document", `"roles": [` + dfRead + `]`,
			[]string{`{"_id": 1, "owner": "u2"}`, `{"_id": 1, "owner": "u2", "secret": "s"}`},
			[]string{`{"owner": "u2"}`}, false},
		// Every field readable: the decision may depend on what the
		// caller sees (owner present or not), and WriteFilter agrees.
		{"readable-unwritable-absent", `"roles": [` + readOnly + `]`,
			[]string{`{"_id": 1, "t": 1}`, `{"_id": 1, "t": 3, "x": {"y": 1}}`},
			[]string{`{"t": 2}`, `{"_id": 1, "t": 2}`}, true},
		{"readable-unwritable-present", `"roles": [` + readOnly + `]`,
			[]string{`{"_id": 1, "owner": "u1", "t": 1}`},
			[]string{`{"t": 2}`, `{"_id": 2, "owner": "u1"}`}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog := genApp(t, `{"database": "db", "collection": "coll", `+tc.rules+`}`)
			if prog == nil {
				t.Fatalf("rules do not load: %s", tc.rules)
			}
			u, err := expansion.NewUserObject([]byte(`{"id": "u1"}`))
			if err != nil {
				t.Fatal(err)
			}
			for _, us := range tc.updates {
				upd := genDoc(t, us)
				caller := evaluator.Caller{Namespace: "db.coll", Inputs: expansion.Inputs{User: u}}
				wf, err := prog.WriteFilter(context.Background(), caller, evaluator.ActionWrite, upd)
				if err != nil {
					t.Fatalf("%s: WriteFilter: %v", us, err)
				}
				var first evaluator.Decision
				var firstErr error
				for i, ds := range tc.docs {
					prev := genDoc(t, ds)
					dec, err := prog.Evaluate(context.Background(), caller, evaluator.Doc{Action: evaluator.ActionWrite, PrevDocument: prev, Update: upd})
					if dec.Allowed != tc.allowed {
						t.Errorf("%s on %s: allowed %v (%s), want %v", us, ds, dec.Allowed, dec.Reason, tc.allowed)
					}
					if i == 0 {
						first, firstErr = dec, err
					} else if dec.Reason != first.Reason || fmt.Sprint(err) != fmt.Sprint(firstErr) {
						t.Errorf("%s: %s (%v) on %s, %s (%v) on %s: it depends on a hidden value", us, first.Reason, firstErr, tc.docs[0], dec.Reason, err, ds)
					}
					if m := memMatch(t, prev, wf); m != dec.Allowed {
						t.Errorf("%s on %s: WriteFilter %v matches %v, Evaluate allows %v", us, ds, wf, m, dec.Allowed)
					}
				}
			}
		})
	}
}
