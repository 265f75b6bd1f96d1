// isPartner(agency, documentDate, email): whether the User of that email
// may read a report of agency dated documentDate through a partnership:
// the report's agency lists the User's agency in outboundPartnerAgencies
// (fromDate and toDate, each optional, bound the partnership), and the
// User's agency lists the report's agency in inBoundPartnerAgencies, with
// agencyWideAccess or with the report's agency among the User's own
// inboundPartnerAgencies.
exports = async function(agency, documentDate, email) {
  const db = context.services.get("mongodb-atlas").db("wildaid");
  const user = await db.collection("User").findOne({email: email});
  if (!user || !user.agency) {
    return false;
  }
  const agencies = db.collection("Agency");
  const [own, owner] = await Promise.all([agencies.findOne({name: user.agency.name}), agencies.findOne({name: agency})]);
  if (!own || !owner) {
    return false;
  }
  const out = (owner.outboundPartnerAgencies || []).find(p => p.name === user.agency.name);
  if (!out || (out.fromDate && out.fromDate > documentDate) || (out.toDate && out.toDate < documentDate)) {
    return false;
  }
  const inbound = (own.inBoundPartnerAgencies || []).find(p => p.name === agency);
  if (!inbound) {
    return false;
  }
  return inbound.agencyWideAccess === true || (user.inboundPartnerAgencies || []).indexOf(agency) >= 0;
};
