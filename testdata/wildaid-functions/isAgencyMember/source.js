// isAgencyMember(agency, email): whether the User of that email belongs to
// the agency.
exports = function(agency, email) {
  const users = context.services.get("mongodb-atlas").db("wildaid").collection("User");
  return users.count({email: email, "agency.name": agency}).then(n => n > 0);
};
