// The user creation function: the new user's custom data document, so
// that its first access token carries it. A user whose address starts with
// "refused" is refused.
exports = async function (user) {
  const email = user.data.email || null;
  if (email && email.startsWith("refused")) {
    throw new Error("refused: " + email);
  }
  const profiles = context.services.get("mongodb-atlas").db("srvjs").collection("profiles");
  await profiles.insertOne({ userId: user.id, email, plan: "free" });
};
