package gate

// The driver options the gate refuses on every method that takes them.

// serverOptions are the options of one call that App Services does not
// let application users set, or that would let the server's answer
// depend on something other than the documents the rules were checked
// against. Each method fills in the ones its options struct has.
type serverOptions struct {
	hint            any
	bypass          *bool
	noCursorTimeout *bool
	allowPartial    *bool
	oplogReplay     *bool
	allowDiskUse    *bool // Aggregate only: Find's is honoured
	internal        bool  // an internal option is set (xoptions)
	let             any
}

// checkOptions refuses, with CodeUnsupported, the first of the options in
// o that is set. mongodb/docs-app-services
// source/mongodb/crud-and-aggregation-apis.txt ("Database Command
// Availability") lists hint, noCursorTimeout, allowPartialResults and
// oplogReplay among the find options, hint, allowDiskUse and
// bypassDocumentValidation among the aggregate options, and
// bypassDocumentValidation among the insert and update options that
// application users may not set. The gate adds its own reasons:
//
//   - hint: with a sparse or partial index, which documents the server
//     considers depends on whether they hold a field, or which value it
//     has, fields hidden from the caller included;
//   - bypassDocumentValidation: the collection's schema validation must
//     hold for application users' writes (App Services enforces schema
//     validation in user functions);
//   - noCursorTimeout: a cursor that never times out holds server
//     resources on behalf of a caller;
//   - allowPartialResults: a partial answer from a sharded cluster is not
//     the answer the gate's counting (skip, limit) assumes;
//   - allowDiskUse on Aggregate: available in system functions only;
//   - internal driver options (x/mongo/driver/xoptions: addCommandFields,
//     rawData): they add arbitrary fields to the command;
//   - let: variables for $expr and pipelines, which the gate does not
//     offer.
//
// comment is honoured (it reaches only the server's logs and profiler),
// batchSize too; collation is refused by noCollation.
func (c *Collection) checkOptions(op string, o serverOptions) *RefusedError {
	name := ""
	switch {
	case o.hint != nil:
		return c.refused(op, CodeUnsupported, "the hint option is not available to application users (App Services: Database Command Availability): with a sparse or partial index, which documents the server considers depends on fields the caller may not read", nil)
	case o.bypass != nil:
		name = "bypassDocumentValidation"
	case o.noCursorTimeout != nil && *o.noCursorTimeout:
		name = "noCursorTimeout"
	case o.allowPartial != nil && *o.allowPartial:
		name = "allowPartialResults"
	case o.oplogReplay != nil && *o.oplogReplay:
		name = "oplogReplay"
	case o.allowDiskUse != nil && *o.allowDiskUse:
		name = "allowDiskUse"
	case o.internal:
		return c.refused(op, CodeUnsupported, "internal driver options (xoptions) are not supported through the gate: they can add any field to the command", nil)
	case o.let != nil:
		return c.refused(op, CodeUnsupported, "the let option is not supported through the gate", nil)
	default:
		return nil
	}
	return c.refused(op, CodeUnsupported, "the "+name+" option is not available to application users (App Services: Database Command Availability)", nil)
}

// metaAllowed are the {$meta: ...} keywords a client pipeline may use:
// each is computed from the documents the pipeline sees ("sortKey") or
// needs a stage the gate refuses ($text, $search, $vectorSearch), so it
// reveals nothing the pipeline's input does not hold. "indexKey" (the
// index entry of the stored document, fields the rules' $project removed
// included) and "recordId" (its storage location; showRecordId is refused
// on Find) are refused, as is any keyword not listed.
var metaAllowed = map[string]bool{
	"textScore":          true,
	"searchScore":        true,
	"searchHighlights":   true,
	"searchScoreDetails": true,
	"vectorSearchScore":  true,
	"sortKey":            true,
}
