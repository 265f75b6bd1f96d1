// isPartner(agency, documentDate, email): whether the User of that email
// belongs to an agency that the agency of the document shares its reports
// with at documentDate (its outboundPartnerAgencies, each with the date
// ranges of the partnership).
exports = async function(agency, documentDate, email) {
  const db = context.services.get("mongodb-atlas").db("wildaid");
  const user = await db.collection("User").findOne({email: email});
  if (!user || !user.agency || !documentDate) {
    return false;
  }
  const owner = await db.collection("Agency").findOne({name: agency});
  const partners = (owner && owner.outboundPartnerAgencies) || [];
  return partners.some(p => p.name === user.agency.name &&
    (p.dates || []).some(d => d.fromDate <= documentDate && documentDate <= d.toDate));
};
