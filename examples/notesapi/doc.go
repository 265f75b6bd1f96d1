// Command notesapi is a small JSON API over App Services rules, built on
// rulegate's public packages only (it is a module of its own, so it cannot
// import the library's internal packages): users log in with email and
// password (accounts), get an access token carrying their custom user data
// (customdata, token), and read and write notes through a gate (gate)
// whose rules are an exported App Services app, app/:
//
//   - admin: custom_data.isAdmin true: every note, every field;
//   - owner: owner_id equal to the caller's id: read, write, insert, delete;
//   - teammate: team_id in the caller's custom_data.teamIds: read-only,
//     the private field hidden.
//
// Run it from examples/notesapi with
//
//	go run . [-addr 127.0.0.1:8080] [-database notesapi]
//
// It starts the embedded test server (rulegatetest.Start: FerretDB, built
// on first use, about a minute the first time) unless MONGODB_URI names a
// server, and seeds the demo users and notes of seed. api_test.go runs the
// same API on rulegatetest.Database, journey by journey.
//
// Vocabulary:
//
//	| term        | meaning                                                                    |
//	|-------------|----------------------------------------------------------------------------|
//	| route       | POST /login, POST /refresh, GET /notes?status=&sort=&skip=&limit=,         |
//	|             | GET /notes/{id}, POST /notes, PATCH /notes/{id}, DELETE /notes/{id},       |
//	|             | GET /notes/stats                                                           |
//	| rules names | the database "notes" and collections "notes" and "custom_data" of app/;   |
//	|             | the API asks the gate for these, gate.WithDatabaseMapping sends them to    |
//	|             | the deployment database (-database, or the test's)                         |
//	| caller      | a request whose bearer access token verified: its claims are %%user        |
//	| system      | gate.System(): the application's own writes (custom data, demo notes)      |
//	| 401         | any token.ErrInvalid (missing, malformed, expired, a refresh token), a     |
//	|             | wrong password, an unknown or revoked session                              |
//	| 403         | a gate.DeniedError: the body carries its reason, role and field            |
//	| 404         | a note the caller cannot read, whether or not it exists                    |
//	| 501         | a gate.RefusedError with gate/unsupported: the gate cannot check it yet    |
//
// Semantics are the gate's and follow mongodb/docs-app-services:
// source/rules/roles.txt (the first role whose apply_when holds decides a
// document; documents no role reads are left out), source/users/
// custom-metadata.txt (custom data is read at login and refresh, and is as
// stale as the access token until then), source/users/sessions.txt
// (access tokens last 30 minutes, refresh tokens name the session).
//
// GET /notes/stats (a $group by status through gate Aggregate) runs for
// every caller over the notes as that caller reads them: for an owner who
// also reads a teammate's notes (their private field hidden) the gate
// runs the pipeline itself over the redacted notes; for an admin the
// server runs it.
//
// What the API cannot do with the gate today, said plainly:
//   - GET /notes/watch (gate Watch as server-sent events) needs change
//     streams: on the embedded test server, which has none, it answers
//     501.
package main
