// checkFlow checks what customUserDataFlow (flow.mjs) observed, under Node
// or in the browser: the same expectations for both.

import assert from "node:assert/strict";

export function checkFlow(obs, lines) {
  assert.equal(obs.current, true, "the logged-in user is app.currentUser");
  assert.equal(obs.providerType, "local-userpass");
  assert.match(obs.aliceId, /^[0-9a-f]{24}$/, "user ids are ObjectId hex strings");
  assert.match(obs.profileEmail, /^alice-.*@example\.com$/, "user.profile.email");
  assert.deepEqual(obs.customDataAtLogin, {}, "no custom data document at login: customData is {}");
  assert.equal(obs.customDataAfterSeedStale, null, "custom data changes only with a new access token");

  const before = obs.customDataBefore;
  assert.equal(before.favoriteColor, "pink", "custom data after refreshCustomData");
  assert.equal(before.userId, obs.aliceId, "the custom data document's userId is the user's id");
  // As on Atlas, the token carries the document in canonical extended JSON
  // and realm-web does not deserialize it (realm-js #4927, #3326).
  assert.match(before._id && before._id.$oid, /^[0-9a-f]{24}$/, `customData._id = ${JSON.stringify(before._id)}, want {"$oid": ...}`);

  assert.deepEqual(lines, ["old favoriteColor:  pink", "new favoriteColor:  purple"], "what the page logs");
  assert.deepEqual(obs.updateResult, { matchedCount: 1, modifiedCount: 1 }, "updateOne of her own document");
  assert.equal(obs.staleFavoriteColor, "pink", "customData is stale until refreshCustomData");
  assert.equal(obs.customDataAfter.favoriteColor, "purple", "customData after refreshCustomData");

  assert.deepEqual(obs.bobUpdate, { resolved: { matchedCount: 0, modifiedCount: 0 } },
    "updateOne of bob's document: it is invisible to alice, so it matches nothing");
  assert.ok(obs.handOver.rejected, `updateOne handing alice's document to bob resolved with ${JSON.stringify(obs.handOver.resolved)}, want a refusal`);
  const err = obs.handOver.rejected;
  assert.equal(err.name, "MongoDBRealmError", `handing the document to bob: ${err.message}`);
  assert.notEqual(err.statusCode, 401, `a refusal must not be a 401 (realm-web would refresh and retry forever): ${err.message}`);
  assert.ok(err.statusCode >= 400 && err.statusCode < 500, `status ${err.statusCode}: ${err.message}`);
  assert.equal(typeof err.errorCode, "string", `no error_code: ${err.message}`);
  assert.equal(obs.aliceStillOwns, true, "alice's document is still hers");
  assert.equal(obs.bobFavoriteColor, "green", "bob's document is unchanged");
  assert.equal(obs.aliceSeesBob, false, "alice cannot read bob's document");
  assert.equal(obs.aliceCount, 1, "alice counts only her own document");
  assert.equal(obs.usersLeft, 0, "deleteUser removed both users");
}
