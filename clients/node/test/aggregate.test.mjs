// realm-web 2.0.1's aggregate for a caller whose readable fields vary by
// document, against rulegate serve --app clients/testapp: in
// clients.shared, owners read their notes whole; a note marked shared is
// read by everyone else without its n (the viewer role's fields). The
// gate runs such a pipeline itself, over the notes as the caller reads
// them (issue 15, item 3).

import { before, after, test } from "node:test";
import assert from "node:assert/strict";
import * as Realm from "realm-web";
import { assertDenied, newUser, rejection, servers } from "../lib/harness.mjs";

const app = new Realm.App(servers.notes);
let alice, bob, mine;

function shared(user) {
  return user.mongoClient("mongodb-atlas").db("clients").collection("shared");
}

before(async () => {
  ({ user: bob } = await newUser(Realm, app, "bob"));
  await shared(bob).insertMany([
    { owner_id: bob.id, text: "bob's shared", n: 100, shared: true },
    { owner_id: bob.id, text: "bob's own", n: 1000 },
  ]);
  ({ user: alice } = await newUser(Realm, app, "alice"));
  mine = shared(alice);
  await mine.insertMany([
    { owner_id: alice.id, text: "a1", n: 1 },
    { owner_id: alice.id, text: "a2", n: 2 },
  ]);
});

after(async () => {
  for (const u of [alice, bob]) {
    app.switchUser(u);
    await app.deleteUser(u);
  }
});

// Only the notes of these two users: other test files do not use
// clients.shared, but a rerun may leave notes of earlier users.
function ours(stages) {
  return [{ $match: { owner_id: { $in: [alice.id, bob.id] } } }, ...stages];
}

test("aggregate: $group sums what the caller reads, not the shared note's hidden n", async () => {
  const out = await mine.aggregate(ours([{ $group: { _id: null, total: { $sum: "$n" }, texts: { $push: "$text" }, count: { $sum: 1 } } }]));
  assert.equal(out.length, 1);
  assert.equal(out[0].total, 3, "bob's shared note's n is hidden from alice");
  assert.equal(out[0].count, 3, "alice's two notes and bob's shared one");
  assert.deepEqual([...out[0].texts].sort(), ["a1", "a2", "bob's shared"]);
});

test("aggregate: $match on a hidden field does not match, $sort and $project see it missing", async () => {
  assert.deepEqual(await mine.aggregate(ours([{ $match: { n: 100 } }])), [], "bob's hidden n does not match");
  const sorted = await mine.aggregate(ours([{ $sort: { n: -1, text: 1 } }, { $project: { _id: 0, text: 1, n: 1 } }]));
  assert.deepEqual(sorted, [{ text: "a2", n: 2 }, { text: "a1", n: 1 }, { text: "bob's shared" }]);
  const cond = await mine.aggregate(ours([{ $project: { _id: 0, text: 1, big: { $cond: [{ $gte: ["$n", 50] }, "yes", "no"] } } }, { $sort: { text: 1 } }]));
  assert.deepEqual(cond, [{ text: "a1", big: "no" }, { text: "a2", big: "no" }, { text: "bob's shared", big: "no" }]);
});

test("aggregate: $lookup reads the other collection through its rules", async () => {
  const out = await mine.aggregate(ours([
    { $match: { text: "a1" } },
    { $lookup: { from: "shared", localField: "owner_id", foreignField: "owner_id", as: "same" } },
    { $project: { _id: 0, n: { $size: "$same" }, hidden: "$same.n" } },
  ]));
  assert.deepEqual(out, [{ n: 2, hidden: [1, 2] }], "alice's own two notes, and none of bob's");
  const theirs = await mine.aggregate(ours([
    { $match: { text: "bob's shared" } },
    { $lookup: { from: "shared", localField: "owner_id", foreignField: "owner_id", as: "same" } },
    { $project: { _id: 0, texts: "$same.text", hidden: "$same.n" } },
  ]));
  assert.deepEqual(theirs, [{ texts: ["bob's shared"], hidden: [] }], "bob's shared note only, without its n");
});

test("aggregate: a failing expression and a refused stage are errors", async () => {
  const err = await rejection(mine.aggregate(ours([{ $project: { x: { $divide: ["$n", 0] } } }])), "aggregate dividing by zero");
  assertDenied(Realm, err, "aggregate dividing by zero");
  assert.equal(err.errorCode, "MongoDBError", err.message);
  const refused = await rejection(mine.aggregate(ours([{ $graphLookup: { from: "shared", startWith: "$owner_id", connectFromField: "owner_id", connectToField: "owner_id", as: "g" } }])), "aggregate with $graphLookup");
  assertDenied(Realm, refused, "aggregate with $graphLookup");
});
