// Access token expiry and refresh with realm-web 2.0.1, against a rulegate
// serve whose access tokens live a few seconds (--access-ttl): an expired
// access token is answered 401 InvalidSession, realm-web refreshes it with
// the refresh token and re-sends the call, which succeeds; a refreshed
// token carries the custom data of the moment.

import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import * as Realm from "realm-web";
import { loggingFetch, newUser, origin, servers, shortTTLSeconds } from "../lib/harness.mjs";

const server = servers.shortTTL;

function claims(accessToken) {
  return JSON.parse(Buffer.from(accessToken.split(".")[1], "base64url").toString());
}

// untilExpired waits until the access token's exp is past.
async function untilExpired(accessToken) {
  const { exp } = claims(accessToken);
  const ms = exp * 1000 - Date.now() + 1100;
  if (ms > 0) await sleep(ms);
}

async function seed(userId, favoriteColor) {
  const res = await fetch(`${origin}/seed`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ userId, favoriteColor }),
  });
  assert.ok(res.ok, `seed: ${res.status}`);
}

test("an expired access token is refreshed and the call re-sent, twice in a row", async () => {
  const { fetch, log } = loggingFetch();
  const app = new Realm.App({ ...server, fetch });
  const { user } = await newUser(Realm, app, "expiry");
  const first = claims(user.accessToken);
  assert.equal(typeof first.exp, "number");
  assert.equal(typeof first.iat, "number");
  assert.equal(first.exp - first.iat, shortTTLSeconds, "the access token lives --access-ttl");
  assert.equal(first.sub, user.id);
  await seed(user.id, "pink");
  const coll = user.mongoClient("mongodb-atlas").db("custom-user-data-database").collection("custom-user-data");

  for (const round of [1, 2]) {
    const before = user.accessToken;
    await untilExpired(before);
    log.length = 0;
    const doc = await coll.findOne({ userId: user.id });
    assert.equal(doc && doc.favoriteColor, "pink", `round ${round}: the re-sent call's result`);
    const calls = log.map((e) => `${e.method} ${e.path.replace(/\/app\/[^/]+\//, "/app/ID/")} ${e.status >= 200 && e.status < 300 ? "2xx" : e.status}`);
    assert.deepEqual(
      calls,
      [
        "POST /api/client/v2.0/app/ID/functions/call 401",
        "POST /api/client/v2.0/auth/session 2xx",
        "POST /api/client/v2.0/app/ID/functions/call 2xx",
      ],
      `round ${round}: the requests`
    );
    assert.equal(log[1].auth, `Bearer ${user.refreshToken}`, "the refresh is sent with the refresh token");
    assert.notEqual(user.accessToken, before, `round ${round}: a new access token`);
    assert.equal(claims(user.accessToken).sub, user.id);
    // The refreshed token carries the custom data document as it is now.
    assert.equal(user.customData.favoriteColor, "pink");
  }

  // An expired token is 401 InvalidSession, never accepted.
  await untilExpired(user.accessToken);
  const res = await globalThis.fetch(`${server.baseUrl}/api/client/v2.0/auth/profile`, {
    headers: { Authorization: `Bearer ${user.accessToken}`, Accept: "application/json" },
  });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error_code, "InvalidSession");
  // An update with an expired token goes through after a refresh, and
  // refreshCustomData then shows it.
  await coll.updateOne({ userId: user.id }, { $set: { favoriteColor: "orange" } });
  assert.equal(user.customData.favoriteColor, "pink", "stale until refreshCustomData");
  await user.refreshCustomData();
  assert.equal(user.customData.favoriteColor, "orange");
  await app.deleteUser(user);
});

test("a refresh token used as an access token is refused without a loop", async () => {
  const app = new Realm.App(server);
  const { user } = await newUser(Realm, app, "refresh-as-access");
  const res = await globalThis.fetch(`${server.baseUrl}/api/client/v2.0/auth/profile`, {
    headers: { Authorization: `Bearer ${user.refreshToken}`, Accept: "application/json" },
  });
  assert.equal(res.status, 401);
  const res2 = await globalThis.fetch(`${server.baseUrl}/api/client/v2.0/auth/session`, {
    method: "POST",
    headers: { Authorization: `Bearer ${user.accessToken}`, Accept: "application/json" },
  });
  assert.equal(res2.status, 401, "an access token used as a refresh token");
  await app.deleteUser(user);
});
