// Runs as system: srvjs.admins has no rules, so no user could read it.
exports = function (email) {
  return context.services.get("mongodb-atlas").db("srvjs").collection("admins")
    .findOne({ email }).then(a => !!a);
};
