// isAgencyAdmin(agency, email): whether the User of that email is an admin
// of the agency. The admins are listed in the ofish database's User
// collection, each with its agency as {name, admin: true}.
exports = async function(agency, email) {
  const admins = context.services.get("mongodb-atlas").db("ofish").collection("User");
  const admin = await admins.findOne({email: email, agency: {name: agency, admin: true}});
  return admin !== null;
};
