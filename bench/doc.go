// Package bench compares rulegate's compiled rules with the engines a Go
// backend would otherwise reach for: handwritten Go (the floor),
// github.com/expr-lang/expr, CEL (cel.dev/cel-go, formerly
// github.com/google/cel-go) and OPA's rego.
//
// It is a module of its own (github.com/rulegate/rulegate/bench) so that the
// library never depends on the peers. Every engine decides the same three
// checks on the same inputs:
//
//	| check          | meaning                                                       |
//	|----------------|---------------------------------------------------------------|
//	| owner          | document.owner_id == user.id                                  |
//	| team           | document.team_id in user.custom_data.teamIds                  |
//	| admin-or-owner | user.custom_data.admin == true OR document.owner_id == user.id |
//
// Vocabulary:
//
//	| term        | meaning                                                                  |
//	|-------------|--------------------------------------------------------------------------|
//	| Engine      | one way of deciding the checks, compiled once (Name, Bind)               |
//	| Bind        | the per-request work: turn the access-token claims into the engine's input |
//	| Request     | a bound request; Decide(check, document) decides one document             |
//	| Claims      | the JSON payload of an access token (sub, iat, exp, user_data)            |
//	| Document    | the document the check is about, as bson.Raw from the driver              |
//	| DocToMap    | the generic bson.Raw -> map[string]any conversion the peers need          |
//
// A document is always handed over as bson.Raw, as the MongoDB driver returns
// it: engines that cannot read BSON pay for converting it, because a real
// integration would have to.
package bench
