// Every MongoDB collection method realm-web 2.0.1 has, allowed and denied,
// against rulegate serve --app clients/testapp: owners insert, read, write
// and delete their own notes (owner_id = %%user.id); nobody sees or changes
// another owner's notes. A note alice cannot read is left out of her
// calls, as App Services' document filters leave it out: reads do not
// return it and writes do not match it (an error would tell her it
// exists); a write that would make a note another owner's is refused.
//
// The tests run in order and share alice's and bob's notes.

import { before, after, test } from "node:test";
import assert from "node:assert/strict";
import * as Realm from "realm-web";
import { assertDenied, newUser, rejection, servers } from "../lib/harness.mjs";

const { ObjectId } = Realm.BSON;
const app = new Realm.App(servers.notes);
let alice, bob, mine, theirs, bobNote;

function notes(user) {
  return user.mongoClient("mongodb-atlas").db("clients").collection("notes");
}

before(async () => {
  ({ user: bob } = await newUser(Realm, app, "bob"));
  ({ user: alice } = await newUser(Realm, app, "alice"));
  mine = notes(alice);
  theirs = notes(bob);
  const r = await theirs.insertOne({ owner_id: bob.id, text: "bob's", n: 100 });
  bobNote = r.insertedId;
});

after(async () => {
  for (const u of [alice, bob]) {
    app.switchUser(u);
    await app.deleteUser(u);
  }
});

// bobUnchanged checks, as bob reads it, that his note is as he wrote it.
async function bobUnchanged() {
  const doc = await theirs.findOne({ _id: bobNote });
  assert.deepEqual(doc, { _id: bobNote, owner_id: bob.id, text: "bob's", n: 100 }, "bob's note is unchanged");
}

test("insertOne: an own note, not one for another owner", async () => {
  const r = await mine.insertOne({ owner_id: alice.id, text: "a1", n: 1 });
  assert.ok(r.insertedId instanceof ObjectId, `insertedId ${r.insertedId}, want an ObjectId`);
  const err = await rejection(mine.insertOne({ owner_id: bob.id, text: "forged" }), "insertOne for bob");
  assertDenied(Realm, err, "insertOne for bob");
  assert.equal(await theirs.count({ text: "forged" }), 0, "nothing was inserted for bob");
});

test("insertMany: own notes, and all or nothing when one is for another owner", async () => {
  const r = await mine.insertMany([
    { owner_id: alice.id, text: "a2", n: 2 },
    { owner_id: alice.id, text: "a3", n: 3 },
  ]);
  assert.equal(r.insertedIds.length, 2);
  assert.ok(r.insertedIds.every((id) => id instanceof ObjectId), "insertedIds are ObjectIds");
  const err = await rejection(
    mine.insertMany([
      { owner_id: alice.id, text: "a4", n: 4 },
      { owner_id: bob.id, text: "forged" },
    ]),
    "insertMany with a note for bob"
  );
  assertDenied(Realm, err, "insertMany with a note for bob");
  assert.equal(await mine.count({ text: "a4" }), 0, "the refused insertMany inserted none of its notes");
});

test("find: only own notes, with projection, sort and limit", async () => {
  const all = await mine.find();
  assert.deepEqual(all.map((d) => d.text).sort(), ["a1", "a2", "a3"], "alice finds her three notes and not bob's");
  const some = await mine.find({}, { projection: { text: 1 }, sort: { n: -1 }, limit: 2 });
  assert.deepEqual(some.map((d) => Object.keys(d).sort()), [["_id", "text"], ["_id", "text"]], "projection");
  assert.deepEqual(some.map((d) => d.text), ["a3", "a2"], "sort and limit");
  assert.deepEqual(await mine.find({ owner_id: bob.id }), [], "bob's notes are invisible to alice");
  assert.deepEqual(await mine.find({ _id: bobNote }), [], "bob's note by _id is invisible to alice");
});

test("findOne: an own note; another owner's is null", async () => {
  const doc = await mine.findOne({ text: "a1" });
  assert.equal(doc.owner_id, alice.id);
  assert.equal(doc.n, 1);
  const first = await mine.findOne({}, { sort: { n: -1 }, projection: { n: 1, _id: 0 } });
  assert.deepEqual(first, { n: 3 }, "findOne with sort and projection");
  assert.equal(await mine.findOne({ _id: bobNote }), null, "bob's note");
});

test("count: own notes only", async () => {
  assert.equal(await mine.count(), 3);
  assert.equal(await mine.count({}, { limit: 2 }), 2, "count with limit");
  assert.equal(await mine.count({ owner_id: bob.id }), 0, "bob's notes");
  assert.equal(await theirs.count(), 1, "bob counts his own note");
});

test("aggregate: over own notes; a refused stage is an error", async () => {
  const out = await mine.aggregate([{ $match: {} }, { $sort: { n: 1 } }, { $project: { _id: 0, text: 1 } }]);
  assert.deepEqual(out, [{ text: "a1" }, { text: "a2" }, { text: "a3" }]);
  const sum = await mine.aggregate([{ $group: { _id: null, total: { $sum: "$n" } } }]);
  assert.equal(sum.length, 1);
  assert.equal(sum[0].total, 6, "$group sees only alice's notes (bob's n is 100)");
  const err = await rejection(mine.aggregate([{ $match: {} }, { $out: "stolen" }]), "aggregate with $out");
  assertDenied(Realm, err, "aggregate with $out");
});

test("updateOne: an own note; handing it to another owner is refused, and another owner's matches nothing", async () => {
  assert.deepEqual({ ...(await mine.updateOne({ text: "a1" }, { $set: { tag: "x" } })) }, { matchedCount: 1, modifiedCount: 1 });
  const err = await rejection(mine.updateOne({ text: "a1" }, { $set: { owner_id: bob.id } }), "updateOne giving the note to bob");
  assertDenied(Realm, err, "updateOne giving the note to bob");
  assert.equal((await mine.findOne({ text: "a1" })).owner_id, alice.id, "the note is still alice's");
  assert.deepEqual({ ...(await mine.updateOne({ _id: bobNote }, { $set: { text: "mine now" } })) }, { matchedCount: 0, modifiedCount: 0 },
    "bob's note is invisible to alice: her update matches nothing");
  await bobUnchanged();
});

test("updateMany: own notes only; a refused update changes none", async () => {
  assert.deepEqual({ ...(await mine.updateMany({}, { $inc: { n: 10 } })) }, { matchedCount: 3, modifiedCount: 3 });
  await bobUnchanged();
  const err = await rejection(mine.updateMany({}, { $set: { owner_id: bob.id } }), "updateMany giving the notes to bob");
  assertDenied(Realm, err, "updateMany giving the notes to bob");
  assert.equal(await mine.count(), 3, "alice still owns her three notes");
});

test("findOneAndUpdate: pre- and post-image of an own note; another owner's is null", async () => {
  const pre = await mine.findOneAndUpdate({ text: "a1" }, { $set: { n: 21 } });
  assert.equal(pre.n, 11, "the document before the update");
  const post = await mine.findOneAndUpdate({ text: "a1" }, { $inc: { n: 1 } }, { returnNewDocument: true, projection: { n: 1 } });
  assert.deepEqual(Object.keys(post).sort(), ["_id", "n"]);
  assert.equal(post.n, 22, "the document after the update");
  assert.equal(await mine.findOneAndUpdate({ _id: bobNote }, { $set: { text: "mine now" } }), null, "bob's note");
  await bobUnchanged();
  const err = await rejection(mine.findOneAndUpdate({ text: "a1" }, { $set: { owner_id: bob.id } }), "findOneAndUpdate giving it to bob");
  assertDenied(Realm, err, "findOneAndUpdate giving it to bob");
});

test("findOneAndReplace: an own note; a replacement for another owner is refused", async () => {
  const post = await mine.findOneAndReplace({ text: "a2" }, { owner_id: alice.id, text: "b2" }, { returnNewDocument: true });
  assert.equal(post.text, "b2");
  assert.equal(post.n, undefined, "a replacement keeps only _id of the old document");
  const err = await rejection(mine.findOneAndReplace({ text: "b2" }, { owner_id: bob.id, text: "b2" }), "findOneAndReplace giving it to bob");
  assertDenied(Realm, err, "findOneAndReplace giving it to bob");
  assert.equal(await mine.findOneAndReplace({ _id: bobNote }, { owner_id: alice.id, text: "taken" }), null, "bob's note");
  await bobUnchanged();
});

test("findOneAndDelete: sent by realm-web 2.0.1 as findOneAndReplace without an update, it deletes an own note", async () => {
  const gone = await mine.findOneAndDelete({ text: "b2" }, { projection: { text: 1 } });
  assert.deepEqual(Object.keys(gone).sort(), ["_id", "text"], "the deleted document, projected");
  assert.equal(gone.text, "b2", "the deleted document");
  assert.equal(await mine.findOne({ text: "b2" }), null, "the note is deleted");
  assert.equal(await mine.findOne({ _id: gone._id }), null, "not left as an empty document");
  assert.equal(await mine.findOneAndDelete({ _id: bobNote }), null, "bob's note");
  await bobUnchanged();
});

test("deleteOne: an own note; another owner's matches nothing", async () => {
  assert.deepEqual({ ...(await mine.deleteOne({ text: "a1" })) }, { deletedCount: 1 });
  assert.deepEqual({ ...(await mine.deleteOne({ _id: bobNote })) }, { deletedCount: 0 }, "bob's note");
  await bobUnchanged();
});

test("deleteMany: own notes only", async () => {
  await mine.insertOne({ owner_id: alice.id, text: "a5", n: 5 });
  assert.deepEqual({ ...(await mine.deleteMany({})) }, { deletedCount: 2 });
  assert.equal(await mine.count(), 0);
  await bobUnchanged();
});
