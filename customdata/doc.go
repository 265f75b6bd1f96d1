// Package customdata implements App Services custom user data: one document
// per user in a configured collection, looked up by user id at login and at
// every access-token refresh, and carried in the access token so that
// %%user.custom_data.* expansions can read it without a database round trip.
//
// A [Store] reads the documents; an [Auth] ties a Store to package token:
// [Auth.Login] runs the hooks, loads the custom data and mints an access
// token carrying it plus a refresh token; [Auth.Refresh] reloads the
// document and mints a new access token. Custom data in a token is therefore
// stale until the next refresh, as in App Services. See docs/customdata.md.
//
// Vocabulary:
//
//	| term                | meaning                                                                  |
//	|---------------------|--------------------------------------------------------------------------|
//	| custom data document| the document whose user id field equals the user's id (as a string)      |
//	| user id field       | rules.CustomUserData.UserIDField, e.g. "userId"                          |
//	| first inserted      | the document used when several match: $natural order (insertion order)  |
//	| Data                | a loaded document: bson.Raw, its canonical extended JSON (TokenJSON),    |
//	|                     | and warnings                                                             |
//	| Warning             | a non-fatal finding: duplicate documents, a large document, no unique   |
//	|                     | index; returned and passed to the Store's warning hook                   |
//	| warn size           | JSON size above which Load warns (16 KiB: tokens travel in HTTP headers) |
//	| max size            | JSON size above which Load fails (32 KiB by default)                     |
//	| user-creation hook  | Go counterpart of on_user_creation_function_name: runs on a new user's   |
//	|                     | first login and may insert the document                                  |
//	| login hook          | runs on every login before the lookup (e.g. sets lastLogin)              |
//	| session             | the server-side record a refresh token names: user id, type, metadata,   |
//	|                     | identities, device id, expiry, the SHA-256 of the refresh token it      |
//	|                     | issued; kept in a SessionStore value, deleted by Logout                  |
//	| device id           | LoginInfo.DeviceID, or a new 24-hex ObjectId; the access tokens'        |
//	|                     | baas_device_id claim (realm-web's user.deviceId)                         |
//	| rotation            | WithRotation: Refresh returns a new refresh token; presenting a rotated |
//	|                     | one again deletes the session (ErrReused)                                |
//
// Refresh and Logout accept a refresh token only when its SHA-256 equals
// the session's TokenHash (compared in constant time): a session store that
// leaks holds no usable token, and a token the session did not issue last
// is ErrSession. A SessionStore's Get finds no session past its Expires
// (the refresh token's exp).
//
// Rotation is off by default. realm-web 2.0.1 reads only access_token from
// the POST /auth/session response and ignores a new refresh token
// (appservices-protocol.md §3.5, realm-web lines 2037–2050), so with
// rotation its second refresh would present a rotated token and end the
// session; App Services' own refresh token is fixed for the life of the
// session (mongodb/docs-app-services source/users/sessions.txt). Turn it on
// for clients that store the refresh token each refresh returns.
//
// A disabled configuration (Enabled false) yields no custom data: Load
// finds nothing, no hook runs, and tokens carry no "user_data" claim.
//
// The token carries the document as canonical extended JSON (TokenJSON),
// which %%user.custom_data reads back to the same BSON. A document with a
// key starting with "$" at any depth (MongoDB 5.0+ can store one) is never
// carried: extended JSON would turn a user-written {"$maxKey": 1} into a
// MaxKey. Load fails with ErrDollarKey, so Login and Refresh fail for that
// user; dropping the field instead would make {"$exists": false} rules on
// it hold (fail closed). Login refuses LoginInfo.Metadata (%%user.data)
// with such a key likewise.
package customdata
