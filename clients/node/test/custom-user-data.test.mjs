// The Web SDK "Access Custom User Data" flow under Node 20, with realm-web
// 2.0.1's Node build, against rulegate serve --app examples/customdata.

import { test } from "node:test";
import * as Realm from "realm-web";
import { customUserDataFlow } from "../lib/flow.mjs";
import { checkFlow } from "../lib/check.mjs";
import { origin, servers, suffix } from "../lib/harness.mjs";

test("the Web SDK custom user data flow runs unchanged", async () => {
  const lines = [];
  const obs = await customUserDataFlow(Realm, { ...servers.customdata, origin, suffix: suffix() }, (l) => lines.push(l));
  checkFlow(obs, lines);
});
