// Authentication with realm-web 2.0.1 against rulegate serve --app
// examples/customdata: anonymous login, user API keys, logOut and
// deleteUser.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as Realm from "realm-web";
import { newUser, password, rejection, servers } from "../lib/harness.mjs";

function customData(user) {
  return user.mongoClient("mongodb-atlas").db("custom-user-data-database").collection("custom-user-data");
}

// raw sends one bodiless request as realm-web would, with token, and
// returns the status and the parsed JSON body (null when there is none).
async function raw(server, method, path, token) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  const res = await fetch(server.baseUrl + path, { method, headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

test("anonymous login: a user with no custom data who reads nothing", async () => {
  const app = new Realm.App(servers.customdata);
  const user = await app.logIn(Realm.Credentials.anonymous());
  assert.equal(user.providerType, "anon-user");
  assert.match(user.id, /^[0-9a-f]{24}$/);
  assert.equal(app.currentUser, user);
  assert.deepEqual(user.customData, {});
  assert.deepEqual(user.identities.map((i) => i.providerType), ["anon-user"]);
  assert.deepEqual(await customData(user).find(), [], "an anonymous user reads no custom data");
  // A second anonymous login with reuse (the default) keeps the user.
  const again = await app.logIn(Realm.Credentials.anonymous());
  assert.equal(again.id, user.id, "Credentials.anonymous() reuses the anonymous user");
  await app.deleteUser(user);
});

test("user API keys: create, fetch, log in with one, disable, enable, delete", async () => {
  const app = new Realm.App(servers.customdata);
  const { user } = await newUser(Realm, app, "keys");
  const key = await user.apiKeys.create("laptop");
  assert.match(String(key._id), /^[0-9a-f]{24}$/, "the key's _id is an ObjectId hex");
  assert.equal(key.name, "laptop");
  assert.equal(key.disabled, false);
  assert.equal(typeof key.key, "string", "the key itself is returned once, at creation");
  const all = await user.apiKeys.fetchAll();
  assert.deepEqual(all.map((k) => k.name), ["laptop"]);
  assert.equal(all[0].key, undefined, "fetchAll never returns the key itself");
  const one = await user.apiKeys.fetch(key._id);
  assert.equal(one.name, "laptop");

  // Another app instance (another device) logs in with the key: the same user.
  const device = new Realm.App(servers.customdata);
  const viaKey = await device.logIn(Realm.Credentials.apiKey(key.key));
  assert.equal(viaKey.id, user.id, "a user API key logs in as its user");
  await viaKey.logOut();

  await user.apiKeys.disable(key._id);
  assert.equal((await user.apiKeys.fetch(key._id)).disabled, true);
  let err = await rejection(device.logIn(Realm.Credentials.apiKey(key.key)), "login with a disabled key");
  assert.ok(err instanceof Realm.MongoDBRealmError, String(err));
  await user.apiKeys.enable(key._id);
  assert.equal((await device.logIn(Realm.Credentials.apiKey(key.key))).id, user.id, "login with the re-enabled key");

  await user.apiKeys.delete(key._id);
  assert.deepEqual(await user.apiKeys.fetchAll(), []);
  err = await rejection(new Realm.App(servers.customdata).logIn(Realm.Credentials.apiKey(key.key)), "login with a deleted key");
  assert.ok(err instanceof Realm.MongoDBRealmError, String(err));
  assert.equal(await rejection(new Realm.App(servers.customdata).logIn(Realm.Credentials.apiKey("not-a-key")), "a made-up key") instanceof Realm.MongoDBRealmError, true);
  app.switchUser(user);
  await app.deleteUser(user);
});

test("logOut: the user is logged out, its calls fail and its refresh token is revoked", async () => {
  const app = new Realm.App(servers.customdata);
  const { user, email } = await newUser(Realm, app, "logout");
  const { refreshToken } = user;
  assert.equal((await raw(servers.customdata, "POST", "/api/client/v2.0/auth/session", refreshToken)).status < 300, true, "the refresh token works before logOut");
  await user.logOut();
  assert.equal(user.state, Realm.UserState.LoggedOut);
  assert.equal(user.accessToken, null);
  assert.equal(user.refreshToken, null);
  assert.equal(app.currentUser, null, "no current user after logOut");
  await rejection(customData(user).findOne({ userId: user.id }), "a call by the logged-out user");

  const refresh = await raw(servers.customdata, "POST", "/api/client/v2.0/auth/session", refreshToken);
  assert.equal(refresh.status, 401, `refresh with a revoked refresh token: ${JSON.stringify(refresh)}`);
  assert.equal(refresh.body.error_code, "InvalidSession");
  // (The access token itself is a signed JWT checked without a database
  // read: it stays valid until its exp, at most the access token lifetime,
  // as App Services' "for up to 30 minutes" (source/users/sessions.txt).)
  // Logging out again is harmless (realm-web swallows "failed to find refresh token").
  await user.logOut();

  // Logging back in starts a new session.
  const back = await app.logIn(Realm.Credentials.emailPassword(email, password));
  assert.equal(back.id, user.id);
  assert.deepEqual(await customData(back).find(), []);
  await app.deleteUser(back);
});

test("deleteUser: the user, its session and its login are gone", async () => {
  const app = new Realm.App(servers.customdata);
  const { user, email } = await newUser(Realm, app, "deleted");
  const { refreshToken } = user;
  await app.deleteUser(user);
  // (realm-web keeps the users of every App of one id in one in-memory
  // storage, so other tests' users may be listed; this one is not.)
  assert.equal(user.id in app.allUsers, false, "realm-web forgets the user");
  assert.equal(user.state, Realm.UserState.Removed);
  const err = await rejection(app.logIn(Realm.Credentials.emailPassword(email, password)), "login of a deleted user");
  assert.ok(err instanceof Realm.MongoDBRealmError, String(err));
  assert.equal(err.statusCode, 401, `login of a deleted user: ${err.message}`);
  const refresh = await raw(servers.customdata, "POST", "/api/client/v2.0/auth/session", refreshToken);
  assert.equal(refresh.status, 401, `refresh of a deleted user: ${JSON.stringify(refresh)}`);
  // (Its access token, a signed JWT, stays valid until its exp, as after
  // logOut.)
  // The e-mail address can be registered again: a new user.
  await app.emailPasswordAuth.registerUser({ email, password });
  const again = await app.logIn(Realm.Credentials.emailPassword(email, password));
  assert.notEqual(again.id, user.id, "a new user, not the deleted one");
  await app.deleteUser(again);
});

test("a wrong password and an unknown user are refused alike, without a refresh loop", async () => {
  const app = new Realm.App(servers.customdata);
  const { user, email } = await newUser(Realm, app, "wrongpw");
  const wrong = await rejection(app.logIn(Realm.Credentials.emailPassword(email, "not-the-password")), "a wrong password");
  const unknown = await rejection(app.logIn(Realm.Credentials.emailPassword(`nobody-${user.id}@example.com`, password)), "an unknown user");
  for (const err of [wrong, unknown]) {
    assert.ok(err instanceof Realm.MongoDBRealmError, String(err));
    assert.equal(err.statusCode, 401);
  }
  assert.equal(wrong.errorCode, unknown.errorCode, "no user enumeration through the error code");
  assert.equal(wrong.error, unknown.error, "no user enumeration through the message");
  app.switchUser(user);
  await app.deleteUser(user);
});

