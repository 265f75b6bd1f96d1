// rootOnly's can_evaluate is decided for this nested call too.
exports = function () {
  return context.functions.execute("rootOnly");
};
