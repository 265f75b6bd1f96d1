package jsfunc

import "github.com/rulegate/rulegate/value"

// ExtJSONForTest renders v as canonical Extended JSON.
func ExtJSONForTest(v value.Value) (string, error) { return extJSON(v, true) }
