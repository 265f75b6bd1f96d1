exports = function (what) {
  throw new Error("boom: " + what);
};
