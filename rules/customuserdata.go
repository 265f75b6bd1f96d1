package rules

import "github.com/rulegate/rulegate/source"

// CustomUserData is auth/custom_user_data.json: where each user's custom
// data document lives and how it is found.
type CustomUserData struct {
	// Enabled turns custom user data on.
	Enabled bool
	// MongoServiceName names the data source (the <service> folder under
	// data_sources/) that holds the collection.
	MongoServiceName string
	// DatabaseName and CollectionName locate the collection.
	DatabaseName, CollectionName string
	// UserIDField is the document field that holds the user's id as a
	// string.
	UserIDField string
	// OnUserCreationFunctionName optionally names the function that runs
	// when a user is created.
	OnUserCreationFunctionName string

	// File and Ptr locate the configuration, for diagnostics.
	File string
	Ptr  source.Pointer
}

// Namespace returns "<database>.<collection>".
func (c *CustomUserData) Namespace() string { return c.DatabaseName + "." + c.CollectionName }
