// isAgencyAdmin(agency, email): whether the User of that email is an admin
// of the agency.
exports = async function(agency, email) {
  const users = context.services.get("mongodb-atlas").db("wildaid").collection("User");
  const user = await users.findOne({email: email, "agency.name": agency});
  return !!(user && user.agency.admin === true);
};
