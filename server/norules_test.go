package server_test

import "testing"

// TestReadMistypedCollection: a read of a collection with no rules (a typo
// of "notes") is 403 NoMatchingRuleFound, through functions/call and the
// Data API alike, never an empty answer.
func TestReadMistypedCollection(t *testing.T) {
	e := newEnv(t)
	u := e.signup("typo@example.com")
	for _, name := range []string{"find", "findOne", "count", "aggregate"} {
		arg := `"query":{}`
		if name == "aggregate" {
			arg = `"pipeline":[]`
		}
		r := e.do("POST", base+"/functions/call", u.access, `{"name":"`+name+`","arguments":[{"database":"srvtest","collection":"notez",`+arg+`}],"service":"mongodb-atlas"}`)
		wantStatus(t, name+" on notez", r, 403, "NoMatchingRuleFound")
	}
	r := e.do("POST", "/app/"+appID+"/endpoint/data/v1/action/find", u.access, `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notez","filter":{}}`)
	wantStatus(t, "Data API find on notez", r, 403, "NoMatchingRuleFound")
}
