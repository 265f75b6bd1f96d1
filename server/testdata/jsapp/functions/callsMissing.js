exports = function () {
  return context.functions.execute("noSuchFunction");
};
