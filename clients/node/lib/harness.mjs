// What the tests share: the servers cmd/rulegate's TestRealClients started
// for them (named in environment variables), and small helpers. The tests
// are meant to be run by that Go test (go test ./cmd/rulegate); run alone
// they fail at once, naming the variable that is missing.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";

// env returns the environment variable name, failing when it is unset.
export function env(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: these tests are run by go test ./cmd/rulegate -run TestRealClients`);
  }
  return v;
}

// servers are the rulegate serve instances of the run:
// as realm-web's App configuration, {id, baseUrl}:
//   customdata  examples/customdata (app customdata-abcde)
//   shortTTL    examples/customdata again, with access tokens of
//               shortTTLSeconds
//   notes       clients/testapp (app notes-abcde): a notes collection whose
//               owners may insert, read, write and delete their own notes
export const servers = {
  customdata: { id: env("RULEGATE_APP_ID"), baseUrl: env("RULEGATE_URL") },
  shortTTL: { id: env("RULEGATE_APP_ID"), baseUrl: env("RULEGATE_SHORT_TTL_URL") },
  notes: { id: env("RULEGATE_NOTES_APP_ID"), baseUrl: env("RULEGATE_NOTES_URL") },
};

export const shortTTLSeconds = Number(env("RULEGATE_SHORT_TTL_SECONDS"));

// origin is the test harness's own server: the browser page, realm-web's
// browser bundle, and POST /seed, which writes a custom data document.
export const origin = env("RULEGATE_ORIGIN");

// suffix makes e-mail addresses unique to a run, so a run against a
// persistent MONGODB_URI never meets an earlier run's users.
export function suffix() {
  return randomBytes(6).toString("hex");
}

export const password = "pa55w0rd!";

// newUser registers a fresh e-mail/password user on app and logs them in.
export async function newUser(Realm, app, name) {
  const email = `${name}-${suffix()}@example.com`;
  await app.emailPasswordAuth.registerUser({ email, password });
  const user = await app.logIn(Realm.Credentials.emailPassword(email, password));
  return { user, email };
}

// rejection awaits p, which must reject, and returns its error.
export async function rejection(p, what) {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail(`${what}: resolved, want a rejection`);
}

// assertDenied checks that err is how realm-web reports a refusal: a
// MongoDBRealmError that is not a 401 (a 401 with InvalidSession would make
// realm-web refresh and retry without end), with App Services' error code.
export function assertDenied(Realm, err, what) {
  assert.ok(err instanceof Realm.MongoDBRealmError, `${what}: ${err}, want a MongoDBRealmError`);
  assert.notEqual(err.statusCode, 401, `${what}: a denial must not be a 401: ${err.message}`);
  assert.ok(err.statusCode >= 400 && err.statusCode < 500, `${what}: status ${err.statusCode}, want 4xx: ${err.message}`);
  assert.equal(typeof err.errorCode, "string", `${what}: no error_code: ${err.message}`);
}

// loggingFetch wraps fetch, recording "METHOD path status" for each request
// and the Authorization header it carried.
export function loggingFetch() {
  const log = [];
  const f = async (input, init = {}) => {
    const res = await fetch(input, init);
    const url = new URL(typeof input === "string" ? input : input.url);
    const headers = new Headers(init.headers);
    log.push({ method: init.method || "GET", path: url.pathname, status: res.status, auth: headers.get("Authorization") });
    return res;
  };
  return { fetch: f, log };
}
