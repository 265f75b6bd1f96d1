// Runs as the caller: the count goes through the notes rules, so it is
// the caller's own notes only.
exports = async function (name, n, tags) {
  const notes = context.services.get("mongodb-atlas").db("clients").collection("notes");
  const mine = await notes.count({});
  return { greeting: `hello ${name}`, twice: n * 2, tags, user: context.user.id, mine };
};
