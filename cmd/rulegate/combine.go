package main

import "go.mongodb.org/mongo-driver/v2/bson"

// combine returns {"$and": [client, rule]}, or rule alone when the client
// query is empty: never merged key by key, so a client condition cannot
// replace a rule's.
func combine(client, rule bson.D) (bson.D, error) {
	if len(client) == 0 {
		return rule, nil
	}
	return bson.D{{Key: "$and", Value: bson.A{client, rule}}}, nil
}
