// Package accounts keeps an App Services app's users in MongoDB: users and
// their identities, email/password credentials (argon2id), confirmation
// and password-reset tokens, API keys, the sessions refresh tokens name,
// and login-throttling counters. A [Store] holds nothing between calls but
// its configuration, so any number of Stores, in any number of processes,
// on one database serve one user base (issue 14: scale-out on MongoDB).
//
// [Store.Sessions] is a customdata.SessionStore: pass it to
// customdata.NewAuth, and Auth.Login / Refresh / Logout keep their sessions
// in the same database.
//
// Vocabulary:
//
//	| term             | meaning                                                                   |
//	|------------------|---------------------------------------------------------------------------|
//	| user             | User: a 24-hex ObjectId id (rules use {"%stringToOid": "%%user.id"}),     |
//	|                  | type "normal" or "server", data (%%user.data), identities                 |
//	| identity         | one way to log in: provider type and name, and the provider's id of the  |
//	|                  | user (custom JWT: its sub; server API key: the key id; else a new id)     |
//	| normalised email | trimmed and lower-cased; stored and compared in that form                 |
//	| pending          | an email/password user not yet confirmed: its correct password gives      |
//	|                  | ErrPending                                                                |
//	| Pending          | the token and token id a confirmation or reset message carries            |
//	| PHC string       | $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>: the parameters travel with   |
//	|                  | the hash, so they can change; a login rehashes with the current ones      |
//	| dummy hash       | what an unknown email's password is verified against, so that it costs    |
//	|                  | what a wrong password costs                                               |
//	| throttle window  | fixed window counting failed logins per identity and per address (an IPv4 |
//	|                  | address, or an IPv6 /64, which one host may pick any address in)          |
//	| user API key     | a key a user owns (≤ 20, names unique per user); logs in as that user     |
//	| server API key   | a key owned by a "server" user created with it; names unique per Store    |
//
// Collections and their documents (names fixed; the database is the
// caller's choice):
//
//	| collection | _id                          | fields                                                   |
//	|------------|------------------------------|----------------------------------------------------------|
//	| users      | ObjectId (the user id)       | type, data (JSON text), disabled, created, expires (anon)|
//	|            |                              | unused (true until the first login, FirstLogin)           |
//	| identities | "<provider name>:<subject>"  | id, user_id, provider_type, provider_name, data (JSON    |
//	|            |  (email, JWT sub, key name)  | text), password (PHC, local-userpass), confirmed,        |
//	|            |                              | created, expires (anon)                                  |
//	| sessions   | session id (refresh "sid")   | user_id, type, data, identities, device_id, token_hash   |
//	|            |                              | (SHA-256 of the refresh token), previous_hashes, expires |
//	| api_keys   | ObjectId (the key id)        | user_id, name, hash (SHA-256 of the secret), disabled,   |
//	|            |                              | created                                                  |
//	| tokens     | ObjectId (the token id)      | kind (confirm, reset), user_id, identity, hash (SHA-256  |
//	|            |                              | of the token), expires                                   |
//	| throttle   | "identity:<email>",          | count, start, expires                                    |
//	|            | "address:<addr>"             |                                                          |
//
// The unique _id of identities makes an email (and a JWT subject per
// provider, and a server key name) unique; api_keys has unique indexes on
// (user_id, name) and on hash. Every expires field has a TTL index
// (expireAfterSeconds 0) where the server supports one; FerretDB 1.x does
// not, and then a plain index is made. Either way every read compares
// expires with the Store's clock itself, so an expired session, token,
// anonymous user or counter is never honoured, whatever MongoDB's TTL
// monitor has done.
//
// Following mongodb/docs-app-services:
//   - source/authentication/email-password.txt: users are pending until
//     confirmed (or auto-confirmed), confirmation and reset links are valid
//     for 30 minutes (WithTokenTTL), a reset function may set the password
//     directly (SetPassword). Passwords are 6 to 128 characters: the page does
//     not say so, but App Services' register error is "password must be
//     between 6 and 128 characters" (the text Realm client code matches). The page says emails are
//     case-sensitive; rulegate compares them case-insensitively instead, so
//     that Alice@ and alice@ cannot be two accounts (or two throttle
//     counters) for one mailbox.
//   - source/authentication/anonymous.txt and source/users/sessions.txt:
//     anonymous users are deleted 90 days after creation (AnonymousLifetime;
//     a TTL index on users.expires and identities.expires, and User refuses
//     an expired one); App Services' refresh token is fixed for the
//     session's life (see customdata.WithRotation).
//   - source/authentication/api-key.txt: server keys come with a server
//     user, user keys belong to a non-anonymous user (ErrAnonymous), at most
//     20 per user, the key is shown once (only CreateAPIKey returns it).
//   - source/authentication/custom-jwt.txt: the JWT's sub is the identity
//     id, the mapped metadata fields are the user's data, updated at every
//     login (LoginExternal).
//   - source/authentication/user-objects.txt: the user object is id, type,
//     data and identities.
//
// No user enumeration: Register of a registered email returns what a
// confirmed registration returns (the zero Pending and nil) after hashing
// the password all the same; ResendConfirmation and RequestReset of an
// unknown email (or a confirmation for a confirmed one) return the zero
// Pending and nil after the same database commands as for a registered
// one (a decoy token nobody is shown, so it can never be spent, replaces
// the one a message would carry); LoginPassword answers an
// unknown email and a wrong password with the same ErrInvalidCredentials
// after one argon2id verification each (a dummy hash for the unknown
// email), and throttles both alike. Database round trips still differ a
// little between the two paths; the hash dominates. SetPassword's
// ErrNotFound is for server-side code, never for the client.
//
// A Store runs at most GOMAXPROCS argon2id hashes at once (each takes 19
// MiB and a core): a burst of logins, registrations or resets waits for a
// slot, or for its context to end, instead of allocating until the
// process runs out of memory.
//
// Throttling counts failures in MongoDB with conditional $inc and upserts
// (no transactions). Under concurrency a few failures may be lost
// (FerretDB loses some concurrent $inc), so a limit is approximate by the
// number of concurrent attempts; it is never relaxed otherwise. Limits
// are checked before the password, so a throttled login costs no hash.
//
// Where the docs are silent rulegate fails closed: a stored hash it cannot
// parse, or with parameters out of bounds, matches no password; a
// confirmation or reset token is single-use and spent only by a matching
// hash; an identity whose user is gone logs nobody in; the user API key
// limit is checked before the insert, and concurrent creations may pass it
// together (the only limit that can be exceeded, by at most the number of
// concurrent calls).
package accounts
