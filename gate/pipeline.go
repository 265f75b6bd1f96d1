package gate

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/rulegate/rulegate/source"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// stageKind classifies the aggregation stages a client may send.
type stageKind uint8

const (
	stageRefused  stageKind = iota // not in the whitelist
	stagePlain                     // reshapes or orders the documents it is given
	stageMatch                     // a client query: validated like a Find filter
	stageOtherCol                  // reads another collection
	stageWrite                     // writes to a collection
)

// stages is the whitelist. Every stage marked stagePlain sees only the
// documents and fields that the rule $match and the rule $project at the
// head of the pipeline let through, so it cannot reveal more than Find.
var stages = map[string]stageKind{
	"$match":       stageMatch,
	"$project":     stagePlain,
	"$addFields":   stagePlain,
	"$set":         stagePlain,
	"$unset":       stagePlain,
	"$sort":        stagePlain,
	"$limit":       stagePlain,
	"$skip":        stagePlain,
	"$count":       stagePlain,
	"$group":       stagePlain,
	"$unwind":      stagePlain,
	"$sortByCount": stagePlain,
	"$replaceRoot": stagePlain,
	"$replaceWith": stagePlain,
	"$bucket":      stagePlain,
	"$bucketAuto":  stagePlain,
	"$sample":      stagePlain,
	// Not available to application users in App Services
	// (source/mongodb/crud-and-aggregation-apis.txt, "Aggregation Pipeline
	// Stage Availability"): $facet, $graphLookup, $merge, $out, $geoNear,
	// $collStats, $currentOp, $indexStats, so not whitelisted. $lookup and
	// $unionWith are available there, with the other collection's rules
	// applied; the gate runs them itself, through the other collection's
	// gated Collection (see Collection.Aggregate). $graphLookup is not
	// available to application users.
	"$lookup":      stageOtherCol,
	"$unionWith":   stageOtherCol,
	"$graphLookup": stageOtherCol,
	"$out":         stageWrite,
	"$merge":       stageWrite,
}

// forbiddenOperators run server-side JavaScript or otherwise escape what the
// gate can reason about; they are refused anywhere in a pipeline or query.
var forbiddenOperators = map[string]bool{
	"$function":    true,
	"$accumulator": true,
	"$where":       true,
}

// maxPipelineDepth bounds expression depth.
const maxPipelineDepth = 64

// toDocs converts a driver-style pipeline (mongo.Pipeline, []bson.D, bson.A,
// []any, []bson.M, ...) into its stages as raw documents.
func toDocs(pipeline any) ([]bson.Raw, error) {
	if pipeline == nil {
		return nil, nil
	}
	if _, ok := pipeline.(bson.D); ok {
		return nil, fmt.Errorf("pipeline must be a slice of stages, got one document (bson.D); use mongo.Pipeline")
	}
	v := reflect.ValueOf(pipeline)
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return nil, fmt.Errorf("pipeline must be a slice of stages, got %T", pipeline)
	}
	out := make([]bson.Raw, 0, v.Len())
	for i := 0; i < v.Len(); i++ {
		raw, err := toRaw(v.Index(i).Interface())
		if err != nil {
			return nil, fmt.Errorf("stage %d: %w", i, err)
		}
		out = append(out, raw)
	}
	return out, nil
}

// toRaw marshals a client document (bson.D, bson.M, a struct, bson.Raw, ...)
// into raw BSON. nil is the empty document.
func toRaw(doc any) (bson.Raw, error) {
	switch d := doc.(type) {
	case nil:
		return bson.Raw(emptyDoc), nil
	case bson.Raw:
		if err := d.Validate(); err != nil {
			return nil, err
		}
		return d, nil
	case []byte:
		r := bson.Raw(d)
		if err := r.Validate(); err != nil {
			return nil, err
		}
		return r, nil
	}
	b, err := bson.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return bson.Raw(b), nil
}

// emptyDoc is the BSON encoding of {}.
var emptyDoc = []byte{5, 0, 0, 0, 0}

// checkPipeline checks a client pipeline against the whitelist, and
// reports whether a stage reads another collection ($lookup,
// $unionWith). validate is called on the body of every $match, in
// sub-pipelines too. The first problem is returned, its Ptr locating the
// stage or operator.
func checkPipeline(stages []bson.Raw, ptr source.Pointer, depth int, validate func(bson.Raw, source.Pointer) *RefusedError) (foreign bool, r *RefusedError) {
	if depth > maxPipelineDepth {
		return false, &RefusedError{Ptr: ptr, Code: CodeUnsupported, Msg: "pipeline nested too deeply"}
	}
	for i, st := range stages {
		sp := ptr.Index(i)
		elems, err := st.Elements()
		if err != nil || len(elems) != 1 {
			return foreign, &RefusedError{Ptr: sp, Code: CodeInvalid, Msg: "a pipeline stage must be a document with exactly one key"}
		}
		name := elems[0].Key()
		body := elems[0].Value()
		bp := sp.Key(name)
		switch kindOf(name) {
		case stageMatch:
			doc, ok := body.DocumentOK()
			if !ok {
				return foreign, &RefusedError{Ptr: bp, Code: CodeInvalid, Msg: "$match takes a document"}
			}
			if r := validate(doc, bp); r != nil {
				return foreign, r
			}
		case stagePlain:
			if r := scanForbidden(body, bp, depth+1); r != nil {
				return foreign, r
			}
		case stageOtherCol:
			if name == "$graphLookup" {
				return foreign, &RefusedError{Ptr: bp, Code: CodeUnsupported, Msg: "$graphLookup is not available to application users (App Services: Aggregation Pipeline Stage Availability)"}
			}
			foreign = true
			if r := checkForeign(name, body, bp, depth, validate); r != nil {
				return foreign, r
			}
		case stageWrite:
			return foreign, &RefusedError{Ptr: bp, Code: CodeUnsupported,
				Msg: name + " writes to a collection outside the rules; write through a gated Collection instead"}
		default:
			return foreign, &RefusedError{Ptr: bp, Code: CodeUnsupported, Msg: fmt.Sprintf("stage %s is not among the stages the gate allows", name)}
		}
	}
	return foreign, nil
}

// checkForeign checks the argument of a $lookup or $unionWith: the other
// collection named by a string (a {db, coll} document would reach another
// database, which the gate does not serve from a pipeline), a
// sub-pipeline checked as the top level, the other fields free of the
// forbidden operators.
func checkForeign(name string, body bson.RawValue, bp source.Pointer, depth int, validate func(bson.Raw, source.Pointer) *RefusedError) *RefusedError {
	collKey := "from"
	if name == "$unionWith" {
		collKey = "coll"
		if body.Type == bson.TypeString {
			return nil
		}
	}
	doc, ok := body.DocumentOK()
	if !ok {
		return &RefusedError{Ptr: bp, Code: CodeInvalid, Msg: name + " takes a document"}
	}
	elems, err := doc.Elements()
	if err != nil {
		return &RefusedError{Ptr: bp, Code: CodeInvalid, Msg: name + " takes a document"}
	}
	for _, e := range elems {
		p := bp.Key(e.Key())
		switch e.Key() {
		case collKey:
			if e.Value().Type != bson.TypeString {
				return &RefusedError{Ptr: p, Code: CodeUnsupported, Msg: name + "'s " + collKey + " must name a collection of the same database: the gate does not read other databases from a pipeline"}
			}
		case "db":
			return &RefusedError{Ptr: p, Code: CodeUnsupported, Msg: name + " reads another database: the gate does not read other databases from a pipeline"}
		case "pipeline":
			arr, ok := e.Value().ArrayOK()
			if !ok {
				return &RefusedError{Ptr: p, Code: CodeInvalid, Msg: name + "'s pipeline must be an array of stages"}
			}
			vals, err := arr.Values()
			if err != nil {
				return &RefusedError{Ptr: p, Code: CodeInvalid, Msg: name + "'s pipeline must be an array of stages"}
			}
			sub := make([]bson.Raw, 0, len(vals))
			for i, v := range vals {
				d, ok := v.DocumentOK()
				if !ok {
					return &RefusedError{Ptr: p.Index(i), Code: CodeInvalid, Msg: "a pipeline stage must be a document with exactly one key"}
				}
				sub = append(sub, d)
			}
			if _, r := checkPipeline(sub, p, depth+1, validate); r != nil {
				return r
			}
		default:
			if r := scanForbidden(e.Value(), p, depth+1); r != nil {
				return r
			}
		}
	}
	return nil
}

func kindOf(name string) stageKind { return stages[name] }

// scanForbidden walks a value and refuses any key naming a forbidden
// operator (server-side JavaScript).
func scanForbidden(v bson.RawValue, ptr source.Pointer, depth int) *RefusedError {
	if depth > maxPipelineDepth {
		return &RefusedError{Ptr: ptr, Code: CodeUnsupported, Msg: "expression nested too deeply"}
	}
	switch v.Type {
	case bson.TypeString:
		// $$USER_ROLES is the roles of the database user the gate
		// connects as (MongoDB 7.0), nothing of the App Services user;
		// the server would answer it on its path. A literal string of
		// the same text ({$literal: "$$USER_ROLES"}) is refused too.
		if s := v.StringValue(); s == "$$USER_ROLES" || strings.HasPrefix(s, "$$USER_ROLES.") {
			return &RefusedError{Ptr: ptr, Code: CodeUnsupported, Msg: "$$USER_ROLES is the roles of the gate's database user, not of the caller; it is not available through the gate"}
		}
	case bson.TypeEmbeddedDocument:
		elems, _ := v.Document().Elements()
		for _, e := range elems {
			p := ptr.Key(e.Key())
			if forbiddenOperators[e.Key()] {
				return &RefusedError{Ptr: p, Code: CodeUnsupported, Msg: e.Key() + " runs server-side JavaScript, which the gate cannot check"}
			}
			if e.Key() == "$meta" {
				if kw, ok := e.Value().StringValueOK(); !ok || !metaAllowed[kw] {
					return &RefusedError{Ptr: p, Code: CodeUnsupported, Msg: "$meta " + e.Value().String() + " is not supported through the gate: it reads the stored document or its index entry, not what the rules let the pipeline see"}
				}
			}
			if r := scanForbidden(e.Value(), p, depth+1); r != nil {
				return r
			}
		}
	case bson.TypeArray:
		vals, _ := v.Array().Values()
		for i, e := range vals {
			if r := scanForbidden(e, ptr.Index(i), depth+1); r != nil {
				return r
			}
		}
	}
	return nil
}

// CheckPipeline makes the checks Collection.Aggregate makes of a client
// pipeline before it reads anything: the stage whitelist, the forbidden
// operators, $match bodies (in sub-pipelines too) validated as Find
// filters, $lookup and $unionWith naming a collection of the same
// database. It returns a *RefusedError (Op "Aggregate", no namespace), or
// nil. Code that runs a user's pipeline elsewhere (jsfunc's in-memory
// collections) checks it as the gate does with it.
func CheckPipeline(pipeline any) error {
	const op = "Aggregate"
	c := &Collection{}
	stages, err := toDocs(pipeline)
	if err != nil {
		return c.refused(op, CodeInvalid, err.Error(), err)
	}
	if _, r := checkPipeline(stages, "", 0, c.validateMatch(op)); r != nil {
		r.Op = op
		return r
	}
	return nil
}
