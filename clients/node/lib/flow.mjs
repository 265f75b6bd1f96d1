// The Web SDK "Access Custom User Data" flow, shared by the Node test
// (test/custom-user-data.test.mjs, realm-web's Node build) and the browser
// page (chromium/index.html, realm-web's browser bundle): the same code runs
// in both, and returns what it observed for the caller to check.
//
// The part between "the page's code" markers is the code of the Web SDK
// page (mongodb.com/docs/atlas/device-sdks/web/access-custom-user-data,
// "Modify a User's Custom Data"), unchanged: only the App's baseUrl points
// at rulegate serve. Before it, a user registers and logs in as the page's
// tested example does (mongodb/docs-realm
// examples/web/src/__tests__/access-custom-user-data.test.js); her custom
// data document is written by the test harness (POST <origin>/seed), as a
// user creation function or trigger writes it on Atlas, since the rules let
// no client insert one.

// customUserDataFlow runs the flow with the realm-web module Realm against
// cfg = {id, baseUrl, origin, suffix} (id is the app id); log receives the lines the page
// logs. It returns the observations as plain data (the browser test gets it
// through page.evaluate).
export async function customUserDataFlow(Realm, cfg, log = () => {}) {
  const obs = {};
  const app = new Realm.App({ id: cfg.id, baseUrl: cfg.baseUrl });
  const console = { log: (...args) => log(args.join(" ")) };
  const password = "pa55w0rd!";
  const alice = `alice-${cfg.suffix}@example.com`;
  const bob = `bob-${cfg.suffix}@example.com`;

  // Bob first: a user whose custom data Alice must not change.
  await app.emailPasswordAuth.registerUser({ email: bob, password });
  const bobUser = await app.logIn(Realm.Credentials.emailPassword(bob, password));
  obs.bobId = bobUser.id;
  await seed(cfg.origin, bobUser.id, "green");

  // Register and log in, as the docs' test does before the page's code.
  await app.emailPasswordAuth.registerUser({ email: alice, password });
  const user = await app.logIn(Realm.Credentials.emailPassword(alice, password));
  obs.aliceId = user.id;
  obs.current = app.currentUser === user;
  obs.providerType = user.providerType;
  obs.profileEmail = user.profile.email;
  obs.customDataAtLogin = user.customData;
  await seed(cfg.origin, user.id, "pink");
  obs.customDataAfterSeedStale = app.currentUser.customData.favoriteColor ?? null;
  await app.currentUser.refreshCustomData();
  obs.customDataBefore = app.currentUser.customData;

  // ---- the page's code ----
  // Get a client object for your app's custom user data collection
  const mongo = app.currentUser.mongoClient("mongodb-atlas");
  const collection = mongo.db("custom-user-data-database").collection("custom-user-data");

  // Log the user's favorite color before we change it
  console.log("old favoriteColor: ", app.currentUser.customData.favoriteColor);

  // Update the user's custom data document
  const updateResult = await collection.updateOne(
    { userId: app.currentUser.id }, // Query for the user object of the logged in user
    { $set: { favoriteColor: "purple" } } // Set the logged in user's favorite color to purple
  );
  obs.staleFavoriteColor = app.currentUser.customData.favoriteColor; // (not in the page: the token is stale)
  // Refresh the user's local customData property
  await app.currentUser.refreshCustomData();

  // Log the user's new favorite color
  console.log("new favoriteColor: ", app.currentUser.customData.favoriteColor);
  // ---- end of the page's code ----

  obs.updateResult = { ...updateResult };
  obs.customDataAfter = app.currentUser.customData;

  // Alice updates Bob's document: his document is invisible to her, so it
  // matches nothing (as App Services' document filters leave it out; an
  // error would tell her that a document with his userId exists).
  obs.bobUpdate = await settle(collection.updateOne({ userId: obs.bobId }, { $set: { favoriteColor: "purple" } }));
  // Alice hands her own document to Bob: refused.
  obs.handOver = await settle(collection.updateOne({ userId: app.currentUser.id }, { $set: { userId: obs.bobId } }));
  obs.aliceStillOwns = (await collection.findOne({ userId: app.currentUser.id })) !== null;
  // Bob's document is unchanged, as Bob reads it.
  const bobDoc = await bobUser
    .mongoClient("mongodb-atlas")
    .db("custom-user-data-database")
    .collection("custom-user-data")
    .findOne({ userId: obs.bobId });
  obs.bobFavoriteColor = bobDoc ? bobDoc.favoriteColor : null;
  obs.aliceSeesBob = (await collection.findOne({ userId: obs.bobId })) !== null;
  obs.aliceCount = await collection.count();

  // realm-web's deleteUser sends the *current* user's access token,
  // whichever user it is given: switch first.
  app.switchUser(bobUser);
  await app.deleteUser(bobUser);
  app.switchUser(user);
  await app.deleteUser(user);
  obs.usersLeft = [obs.aliceId, obs.bobId].filter((id) => id in app.allUsers).length;
  return obs;
}

// settle awaits p and returns {resolved} or {rejected}, as plain data.
async function settle(p) {
  try {
    const r = await p;
    return { resolved: r && typeof r === "object" ? { ...r } : r };
  } catch (err) {
    return { rejected: describeError(err) };
  }
}

// describeError keeps what a test checks of a rejection, as plain data.
export function describeError(err) {
  return {
    name: err && err.constructor ? err.constructor.name : typeof err,
    message: String(err && err.message),
    statusCode: err && err.statusCode,
    errorCode: err && err.errorCode,
  };
}

// seed writes userId's custom data document through the test harness.
async function seed(origin, userId, favoriteColor) {
  const res = await fetch(`${origin}/seed`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ userId, favoriteColor }),
  });
  if (!res.ok) {
    throw new Error(`seed ${userId}: ${res.status} ${await res.text()}`);
  }
}
