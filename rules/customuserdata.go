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

	// File and Ptr locate the configuration, for diagnostics; Offset is
	// the byte offset of its object.
	File   string
	Ptr    source.Pointer
	Offset int

	file *source.File
	// serviceID is the old layout's mongo_service_id, the "id" of a
	// services/<service>/config.json, when the data source is named so.
	serviceID string
}

// Namespace returns "<database>.<collection>".
func (c *CustomUserData) Namespace() string { return c.DatabaseName + "." + c.CollectionName }

// ParseCustomUserData parses auth/custom_user_data.json: enabled,
// mongo_service_name, database_name, collection_name, user_id_field and
// on_user_creation_function_name (mongodb/docs-app-services
// source/reference/config/auth.txt, "Custom User Data"). Unknown keys and wrong types are errors;
// whether an enabled configuration is complete is checked by Validate. On
// error the result is nil and the error a sorted source.ErrorList.
func ParseCustomUserData(f *source.File) (*CustomUserData, error) {
	p := &parser{f: f}
	root := p.root()
	if root == nil {
		return nil, p.errs.Err()
	}
	c := p.customUserData(root, false)
	if err := p.done(); err != nil {
		return nil, err
	}
	return c, nil
}

// customUserData parses a custom user data configuration object; legacy
// also accepts the old layout's mongo_service_id
// (source/includes/appschema-configuration.rst, custom_user_data_config).
func (p *parser) customUserData(n *source.Node, legacy bool) *CustomUserData {
	c := &CustomUserData{File: p.f.Name, Ptr: n.Ptr, Offset: n.Offset, file: p.f}
	known := []string{"enabled", "mongo_service_name", "database_name", "collection_name", "user_id_field", "on_user_creation_function_name"}
	if legacy {
		known = append(known, "mongo_service_id")
	}
	p.object(n, func(key string, v *source.Node) bool {
		switch key {
		case "enabled":
			c.Enabled = p.boolean(v)
		case "mongo_service_name":
			c.MongoServiceName = p.str(v)
		case "mongo_service_id":
			if !legacy {
				return false
			}
			c.serviceID = p.str(v)
		case "database_name":
			c.DatabaseName = p.str(v)
		case "collection_name":
			c.CollectionName = p.str(v)
		case "user_id_field":
			c.UserIDField = p.str(v)
		case "on_user_creation_function_name":
			c.OnUserCreationFunctionName = p.str(v)
		default:
			return false
		}
		return true
	}, known...)
	return c
}
