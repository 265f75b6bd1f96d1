// Functions with realm-web 2.0.1 against rulegate serve --app
// clients/testapp: user.functions.<name>(...) and user.callFunction run
// the app's JavaScript as the caller; a private function is refused as an
// unknown one; a thrown error reaches the client with its message.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as Realm from "realm-web";
import { newUser, rejection, servers } from "../lib/harness.mjs";

test("user.functions.greet runs as the caller, through the rules", async () => {
  const app = new Realm.App(servers.notes);
  const { user } = await newUser(Realm, app, "functions");
  const notes = user.mongoClient("mongodb-atlas").db("clients").collection("notes");
  await notes.insertMany([{ owner_id: user.id, n: 1 }, { owner_id: user.id, n: 2 }]);
  const other = await newUser(Realm, new Realm.App(servers.notes), "functions-other");
  await other.user.mongoClient("mongodb-atlas").db("clients").collection("notes").insertOne({ owner_id: other.user.id });

  const got = await user.functions.greet("ada", 21, ["a", "b"]);
  assert.deepEqual(got, { greeting: "hello ada", twice: 42, tags: ["a", "b"], user: user.id, mine: 2 },
    "the function saw the arguments, the caller, and only the caller's notes");
  const again = await user.callFunction("greet", "bob", 1, []);
  assert.equal(again.greeting, "hello bob");
  assert.equal(again.mine, 2);
  await user.logOut();
  await other.user.logOut();
});

test("a private function is refused as an unknown one; a throw reaches the client", async () => {
  const app = new Realm.App(servers.notes);
  const { user } = await newUser(Realm, app, "functions-private");
  let err = await rejection(user.functions.hidden(), "a private function");
  assert.equal(err.statusCode, 404);
  assert.equal(err.errorCode, "FunctionNotFound");
  const unknown = await rejection(user.functions.noSuchFunction(), "an unknown function");
  assert.equal(unknown.errorCode, "FunctionNotFound");
  assert.equal(err.error.replace("hidden", "X"), unknown.error.replace("noSuchFunction", "X"), "the same answer as an unknown function");

  err = await rejection(user.functions.fail(), "a function that throws");
  assert.equal(err.statusCode, 400);
  assert.equal(err.errorCode, "FunctionExecutionError");
  assert.match(err.error, /fail: on purpose/);
  await user.logOut();
});
