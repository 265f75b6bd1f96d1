// A LOGIN trigger's function, as the custom user data pages describe:
// lastLogin on the user's custom data document.
exports = async function (authEvent) {
  const profiles = context.services.get("mongodb-atlas").db("srvjs").collection("profiles");
  await profiles.updateOne({ userId: authEvent.user.id }, { $set: { lastLogin: authEvent.time } });
};
