// The user creation function: the new user's custom data document, so
// that its first access token carries it. A user whose address starts with
// "refused" is refused.
exports = async function (user) {
  if (user.data.email && user.data.email.startsWith("refused")) {
    throw new Error("refused: " + user.data.email);
  }
  const profiles = context.services.get("mongodb-atlas").db("srvjs").collection("profiles");
  await profiles.insertOne({ userId: user.id, email: user.data.email, plan: "free" });
};
