exports = function () {
  return { id: context.user.id, email: context.user.data.email, ip: context.request.remoteIPAddress };
};
