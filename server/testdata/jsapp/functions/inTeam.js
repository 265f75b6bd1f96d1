// Runs as the calling user: the teams rules let a user see only the teams
// it is a member of.
exports = async function (team) {
  const t = await context.services.get("mongodb-atlas").db("srvjs").collection("teams").findOne({ _id: team });
  return t !== null;
};
