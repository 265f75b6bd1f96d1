// Package token mints and verifies rulegate access and refresh tokens: JSON
// Web Tokens (RFC 7519) signed with HS256, RS256 or ES256, whose payload
// carries the App Services user the rules engine evaluates %%user against.
//
// An access token's payload holds the claims below; the user claims use the
// names in package expansion, so a verified token's payload is directly an
// [expansion.User] (see [Claims.User]).
//
//	| claim           | %%user path          | meaning                                                 |
//	|-----------------|----------------------|---------------------------------------------------------|
//	| sub             | %%user.id            | the user id                                             |
//	| user_type       | %%user.type          | "normal" or "server"                                    |
//	| user_metadata   | %%user.data          | the user object's data (a JSON object)                  |
//	| user_identities | %%user.identities    | [{"id", "provider_type"}, ...]                          |
//	| user_data       | %%user.custom_data   | the custom user data document, canonical extended JSON  |
//	|                 |                      | (customdata.TokenJSON); absent when the user has none   |
//	| typ             |                      | "access" (or "refresh" for a refresh token)             |
//	| iat, exp        |                      | issued-at and expiry, seconds since the epoch            |
//	| iss, aud        |                      | issuer and audience, when configured                    |
//	| sid             |                      | the session id (refresh tokens only)                    |
//	| jti             |                      | a random nonce (refresh tokens only): no two are equal  |
//	| baas_device_id  |                      | the login's device id (Params.DeviceID), when given;    |
//	|                 |                      | realm-web's user.deviceId reads it                      |
//
// Other vocabulary:
//
//	| term       | meaning                                                                  |
//	|------------|--------------------------------------------------------------------------|
//	| Key        | one key with its id (the "kid" header) and its algorithm                 |
//	| KeySet     | one signing key and any number of verification-only keys (rotation)      |
//	| Signer     | mints tokens with the KeySet's signing key                               |
//	| Verifier   | checks tokens against every key in a KeySet; returns *Claims             |
//	| Claims     | the verified payload: raw JSON plus the registered claims, read lazily   |
//	| leeway     | clock skew tolerated when checking exp, iat and nbf                      |
//	| size limit | tokens longer than this are rejected before any decoding or crypto       |
//	| ErrInvalid | what every verification failure matches with errors.Is (one 401)         |
//
// Verification is a fast path: the compact token is split once, the header
// and payload are base64-decoded once, the signature is checked on the raw
// signing input with the key's jwt.SigningMethod, and the registered claims
// are read from the payload bytes with gjson in a single pass; the payload is
// never decoded into a map. The header's "alg" must equal the algorithm the
// key with that "kid" was declared with, so neither "alg": "none" nor
// HMAC/RSA confusion can be used to forge a token.
//
// A header or payload with the same key twice in one object, at any depth
// and compared after unescaping ("sub" and "s\u0075b"), is refused with
// [ErrDuplicateKey], and a Signer never mints one (custom data or metadata
// with a repeated key is an [ErrParams]). JSON readers disagree on which
// occurrence wins (gjson's lookups take the first, its ForEach and
// encoding/json the last), so a repeated "sub" or "user_data" would give
// Claims.Subject, %%user and a client two different users.
//
// Each rejection has its own sentinel error ([ErrMalformed], [ErrTooLarge],
// [ErrAlgNone], [ErrAlgorithm], [ErrUnknownKey], [ErrSignature],
// [ErrExpired], [ErrNotYetValid], [ErrIssuer], [ErrAudience],
// [ErrTokenType], [ErrDuplicateKey]), wrapped with detail; test with
// errors.Is. Every one of them also matches [ErrInvalid], so a caller maps
// any refused token to one answer (HTTP 401) with one errors.Is; errors
// building keys, signers and verifiers ([ErrKey], [ErrParams]) do not.
//
// Signers and Verifiers are immutable and safe for concurrent use. Access
// tokens last 30 minutes by default, as App Services access tokens do;
// refresh tokens 60 days.
package token
