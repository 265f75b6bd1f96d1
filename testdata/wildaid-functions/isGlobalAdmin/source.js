// isGlobalAdmin(email): whether the User of that email is a global admin.
exports = function(email) {
  return context.services.get("mongodb-atlas").db("wildaid").collection("User")
    .findOne({email: email})
    .then(user => !!(user && user.global && user.global.admin));
};
