package mongotest

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rulegate/rulegate/rulegatetest"
)

// EnvURI is rulegatetest.EnvURI.
const EnvURI = rulegatetest.EnvURI

// URI is rulegatetest.URI.
func URI(tb testing.TB) string { tb.Helper(); return rulegatetest.URI(tb) }

// Client is rulegatetest.Client.
func Client(tb testing.TB) *mongo.Client { tb.Helper(); return rulegatetest.Client(tb) }

// Database is rulegatetest.Database.
func Database(tb testing.TB) *mongo.Database { tb.Helper(); return rulegatetest.Database(tb) }

// Start is rulegatetest.Start.
func Start() (uri string, stop func(), err error) { return rulegatetest.Start() }
