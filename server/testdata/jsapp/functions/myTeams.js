// Runs as the calling user: only the teams the rules let it read.
exports = async function () {
  const teams = await context.services.get("mongodb-atlas").db("srvjs").collection("teams").find({}).toArray();
  return teams.map(t => t._id).sort();
};
