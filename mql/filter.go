package mql

import "go.mongodb.org/mongo-driver/v2/bson"

// And returns the filter that matches the documents matching every one of
// filters: {"$and": [f1, f2, ...]}, in the order given. Empty filters are
// left out: one non-empty filter is returned as it is, none gives an empty
// filter. The filters are never merged key by key, so a client's key can
// never replace or weaken a rule's.
func And(filters ...bson.D) bson.D {
	var a bson.A
	for _, f := range filters {
		if len(f) > 0 {
			a = append(a, f)
		}
	}
	switch len(a) {
	case 0:
		return bson.D{}
	case 1:
		return a[0].(bson.D)
	}
	return bson.D{{Key: "$and", Value: a}}
}

// NeverMatch is the filter that matches no document: {"_id": {"$in": []}}.
// Every document has an _id, and $in with no values matches nothing.
func NeverMatch() bson.D { return bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{}}}}} }
