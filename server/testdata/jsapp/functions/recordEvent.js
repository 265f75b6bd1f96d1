// The authentication events triggers see, one document each.
exports = async function (authEvent) {
  const events = context.services.get("mongodb-atlas").db("srvjs").collection("events");
  await events.insertOne({
    userId: authEvent.user.id,
    operationType: authEvent.operationType,
    providers: authEvent.providers,
    email: authEvent.user.data.email || "",
    isDate: authEvent.time instanceof Date
  });
};
